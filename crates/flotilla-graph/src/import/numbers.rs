//! Lenient integer fields: Lightning tools print amounts as JSON numbers, as decimal
//! strings (lnd's u64s) or as `"1000msat"` strings (CLN). Each of these reads all
//! spellings and refuses, with a clear message, negatives, fractions and overflow.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// Reads an unsigned integer no larger than `max`, from a number or a decimal string,
/// with an optional `msat` suffix when `allow_msat` is set.
struct UintVisitor {
    max: u64,
    allow_msat: bool,
}

impl UintVisitor {
    fn check<E: de::Error>(&self, v: u64) -> Result<u64, E> {
        if v > self.max {
            Err(E::custom(format_args!(
                "value {v} overflows the field (maximum {})",
                self.max
            )))
        } else {
            Ok(v)
        }
    }
}

impl<'de> Visitor<'de> for UintVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a non-negative integer (number or decimal string) up to {}",
            self.max
        )
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        self.check(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        if v < 0 {
            Err(E::custom(format_args!("negative value {v} is not allowed")))
        } else {
            self.check(v as u64)
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<u64, E> {
        Err(E::custom(format_args!(
            "value {v} overflows the field (maximum {})",
            self.max
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        if v < 0.0 {
            Err(E::custom(format_args!("negative value {v} is not allowed")))
        } else if v.fract() == 0.0 && v > u64::MAX as f64 {
            Err(E::custom(format_args!(
                "value {v} overflows the field (maximum {})",
                self.max
            )))
        } else {
            Err(E::custom(format_args!("value {v} is not an integer")))
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<u64, E> {
        let digits = if self.allow_msat {
            s.strip_suffix("msat").unwrap_or(s)
        } else {
            s
        };
        if digits.starts_with('-') {
            return Err(E::custom(format_args!(
                "negative value {s:?} is not allowed"
            )));
        }
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom(format_args!(
                "{s:?} is not a non-negative integer"
            )));
        }
        match digits.parse::<u64>() {
            Ok(v) => self.check(v),
            Err(_) => Err(E::custom(format_args!(
                "value {s:?} overflows the field (maximum {})",
                self.max
            ))),
        }
    }
}

fn uint<'de, D: Deserializer<'de>>(d: D, max: u64, allow_msat: bool) -> Result<u64, D::Error> {
    d.deserialize_any(UintVisitor { max, allow_msat })
}

/// A `u64` from a number or a decimal string.
pub fn u64_flex<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    uint(d, u64::MAX, false)
}

/// A `u32` from a number or a decimal string.
pub fn u32_flex<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    uint(d, u32::MAX as u64, false).map(|v| v as u32)
}

/// A `u16` from a number or a decimal string.
pub fn u16_flex<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    uint(d, u16::MAX as u64, false).map(|v| v as u16)
}

/// An msat amount from a number, a decimal string or a `"…msat"` string (CLN).
pub fn msat_flex<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    uint(d, u64::MAX, true)
}

/// Like [`u64_flex`], but `null` or a missing field (with `#[serde(default)]`) is `None`.
pub fn opt_u64_flex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null or a non-negative integer")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            u64_flex(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

/// Like [`msat_flex`], but `null` or a missing field is `None`.
pub fn opt_msat_flex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null or an msat amount")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            msat_flex(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct T {
        #[serde(deserialize_with = "u32_flex")]
        a: u32,
        #[serde(deserialize_with = "msat_flex")]
        m: u64,
        #[serde(default, deserialize_with = "opt_u64_flex")]
        o: Option<u64>,
    }

    fn parse(s: &str) -> Result<T, String> {
        serde_json::from_str::<T>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_every_spelling() {
        let t = parse(r#"{"a": "42", "m": "1000msat", "o": "7"}"#).unwrap();
        assert_eq!((t.a, t.m, t.o), (42, 1000, Some(7)));
        let t = parse(r#"{"a": 42, "m": 1000}"#).unwrap();
        assert_eq!((t.a, t.m, t.o), (42, 1000, None));
        let t = parse(r#"{"a": 0, "m": 0, "o": null}"#).unwrap();
        assert_eq!(t.o, None);
    }

    #[test]
    fn refuses_negative_overflow_fraction_and_text() {
        assert!(parse(r#"{"a": -1, "m": 1}"#)
            .unwrap_err()
            .contains("negative"));
        assert!(parse(r#"{"a": "-1", "m": 1}"#)
            .unwrap_err()
            .contains("negative"));
        assert!(parse(r#"{"a": 4294967296, "m": 1}"#)
            .unwrap_err()
            .contains("overflows"));
        assert!(parse(r#"{"a": 1, "m": "99999999999999999999999"}"#)
            .unwrap_err()
            .contains("overflows"));
        assert!(parse(r#"{"a": 1.5, "m": 1}"#)
            .unwrap_err()
            .contains("not an integer"));
        assert!(parse(r#"{"a": "12x", "m": 1}"#)
            .unwrap_err()
            .contains("not a non-negative"));
        assert!(parse(r#"{"a": true, "m": 1}"#)
            .unwrap_err()
            .contains("invalid type"));
    }
}
