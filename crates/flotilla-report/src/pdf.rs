//! SVG → PDF for the paper variants, with `svg2pdf`: vector output, text set in the
//! same embedded Go font as the PNGs (no system font is looked up, so the files are
//! the same on every machine). `svg2pdf` brings its own `usvg`, used only through its
//! re-export here.

use std::sync::{Arc, OnceLock};

use svg2pdf::usvg;

use crate::png::FONT;

fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|(name, _)| name.clone()))
            .unwrap_or_else(|| "Go".into());
        db.set_sans_serif_family(family.clone());
        usvg::Options {
            font_family: family,
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    })
}

/// Converts `svg` to a one-page PDF of the figure's size.
pub fn render(svg: &str) -> Result<Vec<u8>, String> {
    let tree = usvg::Tree::from_str(svg, options()).map_err(|e| format!("bad SVG: {e}"))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| format!("PDF conversion: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_figure_becomes_a_pdf_page_with_its_text() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
            <rect x="10" y="10" width="50" height="50" fill="blue"/>
            <text x="70" y="40" font-size="12">success rate</text></svg>"#;
        let pdf = super::render(svg).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        // The embedded font is subset into the file, so the text is real text.
        assert!(pdf.windows(8).any(|w| w == b"FontFile"), "no embedded font");
        assert!(super::render("<svg").is_err());
    }
}
