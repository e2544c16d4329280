//! Plain-text tables for stdout: aligned columns, thousands separators.

use std::fmt::Write;

/// `1234567` → `1,234,567`.
pub fn thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A table of rows of cells; the first row is the header when `header` is set.
#[derive(Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
    header: bool,
    right_align_from: usize,
}

impl Table {
    /// A table whose columns from `right_align_from` on are right-aligned (numbers).
    pub fn new(right_align_from: usize) -> Self {
        Table {
            rows: Vec::new(),
            header: false,
            right_align_from,
        }
    }

    /// Sets the header row.
    pub fn header<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cells: I) -> Self {
        self.rows
            .insert(0, cells.into_iter().map(Into::into).collect());
        self.header = true;
        self
    }

    /// Appends a row.
    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Renders with two spaces between columns.
    pub fn render(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut width = vec![0; cols];
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for (ri, r) in self.rows.iter().enumerate() {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                let pad = width[i] - c.chars().count();
                if i > 0 {
                    line.push_str("  ");
                }
                if i >= self.right_align_from {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    if i + 1 < r.len() {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
            if ri == 0 && self.header {
                let total: usize = width.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
                let _ = writeln!(out, "{}", "-".repeat(total));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(536_168_010_515), "536,168,010,515");
    }

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(1).header(["what", "n"]);
        t.row(["nodes", "17"]);
        t.row(["channels", "1,234"]);
        assert_eq!(
            t.render(),
            "what          n\n---------------\nnodes        17\nchannels  1,234\n"
        );
    }
}
