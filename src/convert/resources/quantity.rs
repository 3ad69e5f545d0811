//! Kubernetes resource quantities (`100m`, `0.5`, `1Gi`, `1e3`, `500M`), exactly: parsed to
//! an integer count of nano-units so that sums, maxima and shares never round, and written
//! back in the shortest exact spelling the API server reads the same way.

use serde_json::Value;

/// Nano-units per unit: the finest precision a quantity can carry.
const NANO: i128 = 1_000_000_000;

/// A non-negative quantity in nano-units (`1` is 10^-9 of the unit, `1Gi` is 2^30 * 10^9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Quantity(pub i128);

/// Decimal suffixes with their power of ten (relative to the unit).
const DECIMAL: [(&str, i32); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

/// Binary suffixes with their power of two.
const BINARY: [(&str, u32); 6] = [
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];

impl Quantity {
    /// Reads a quantity as written in a manifest: a string, or a YAML number (`cpu: 1`,
    /// `cpu: 0.5`). `None` when it is not one the API server would accept exactly.
    pub fn from_value(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    /// Parses `<decimal><suffix>`: a decimal number (digits, at most one point) then a
    /// binary suffix (`Ki`..`Ei`), a decimal suffix (`n`..`E`) or an exponent (`e3`, `E-2`).
    pub fn parse(text: &str) -> Option<Quantity> {
        let text = text.strip_prefix('+').unwrap_or(text);
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        // The number as an integer count of 10^-digits units.
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return None;
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let scale = -(fraction.len() as i32);
        if let Some(&(_, power)) = BINARY.iter().find(|(s, _)| *s == suffix) {
            let value = mantissa.checked_mul(1i128 << power)?.checked_mul(NANO)?;
            return shift(value, scale).map(Quantity);
        }
        let exponent = match DECIMAL.iter().find(|(s, _)| *s == suffix) {
            Some(&(_, power)) => power,
            None => {
                let exp = suffix.strip_prefix(['e', 'E'])?;
                let exp = exp.strip_prefix('+').unwrap_or(exp);
                if exp.is_empty() || exp.len() > 3 {
                    return None;
                }
                exp.parse::<i32>().ok()?
            }
        };
        shift(mantissa, scale + exponent + 9).map(Quantity)
    }

    /// The shortest exact spelling: a binary suffix for whole multiples of 1Ki when
    /// `binary`, else the largest decimal suffix that keeps it an integer.
    pub fn format(self, binary: bool) -> String {
        let n = self.0;
        if n == 0 {
            return "0".into();
        }
        if binary && n % NANO == 0 {
            let bytes = n / NANO;
            if let Some((suffix, power)) =
                BINARY.iter().rev().find(|(_, p)| bytes % (1i128 << p) == 0)
            {
                return format!("{}{suffix}", bytes >> power);
            }
        }
        for (suffix, power) in DECIMAL.iter().rev() {
            let unit = 10i128.pow((power + 9) as u32);
            if n % unit == 0 {
                return format!("{}{suffix}", n / unit);
            }
        }
        format!("{n}n")
    }

    /// This quantity rounded down to a whole multiple of `step` (nano-units).
    pub fn floor_to(self, step: i128) -> Quantity {
        Quantity(self.0 - self.0 % step)
    }

    /// The value the kubelet's downward API gives for it with `divisor` (rounded up).
    pub fn ceil_div(self, divisor: Quantity) -> i128 {
        (self.0 + divisor.0 - 1) / divisor.0
    }
}

/// `value * 10^power`, refusing a fraction of a nano-unit and overflow.
fn shift(value: i128, power: i32) -> Option<i128> {
    if power >= 0 {
        value.checked_mul(10i128.checked_pow(power as u32)?)
    } else {
        let div = 10i128.checked_pow(power.unsigned_abs())?;
        (value % div == 0).then_some(value / div)
    }
}

/// One milli-unit (the precision the scheduler counts cpu in).
pub const MILLI: i128 = 1_000_000;
/// One unit (a byte, for memory).
pub const UNIT: i128 = NANO;

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> i128 {
        Quantity::parse(text)
            .unwrap_or_else(|| panic!("{text:?}"))
            .0
    }

    #[test]
    fn parses_every_spelling_exactly() {
        assert_eq!(q("100m"), 100 * MILLI);
        assert_eq!(q("0.5"), 500 * MILLI);
        assert_eq!(q(".5"), 500 * MILLI);
        assert_eq!(q("1"), NANO);
        assert_eq!(q("1Gi"), (1 << 30) * NANO);
        assert_eq!(q("1.5Gi"), (3 << 29) * NANO);
        assert_eq!(q("1e3"), 1000 * NANO);
        assert_eq!(q("1E3"), 1000 * NANO);
        assert_eq!(q("25e-3"), 25 * MILLI);
        assert_eq!(q("500M"), 500_000_000 * NANO);
        assert_eq!(q("2k"), 2000 * NANO);
        assert_eq!(q("250u"), 250_000);
        assert_eq!(q("7n"), 7);
        assert_eq!(q("+3"), 3 * NANO);
        assert_eq!(q("0"), 0);
        assert_eq!(q("64Mi"), 64 * (1 << 20) * NANO);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "", "m", "1.2.3", "-1", "1 Gi", "1gi", "1KB", "abc", "1e", "1e99999", "0.1n", "1mi",
        ] {
            assert_eq!(Quantity::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Quantity::from_value(&Value::Bool(true)), None);
    }

    #[test]
    fn numbers_from_yaml_read_like_strings() {
        let v: Value = serde_json::from_str("[1, 0.25]").unwrap();
        assert_eq!(Quantity::from_value(&v[0]), Some(Quantity(NANO)));
        assert_eq!(Quantity::from_value(&v[1]), Some(Quantity(250 * MILLI)));
    }

    #[test]
    fn formats_the_shortest_exact_spelling() {
        let f = |text: &str, binary| Quantity::parse(text).unwrap().format(binary);
        assert_eq!(f("100m", false), "100m");
        assert_eq!(f("0.5", false), "500m");
        assert_eq!(f("2000m", false), "2");
        assert_eq!(f("1Gi", true), "1Gi");
        assert_eq!(f("1536Mi", true), "1536Mi");
        assert_eq!(f("500M", true), "500M");
        assert_eq!(f("1e3", false), "1k");
        assert_eq!(f("0", true), "0");
        assert_eq!(f("7n", false), "7n");
        for text in ["123m", "1Ki", "3Gi", "1500", "12345678901", "999u"] {
            let parsed = Quantity::parse(text).unwrap();
            for binary in [false, true] {
                assert_eq!(Quantity::parse(&parsed.format(binary)), Some(parsed));
            }
        }
    }

    #[test]
    fn floors_and_divides_like_the_kubelet() {
        let third = Quantity(q("1") / 3).floor_to(MILLI);
        assert_eq!(third.format(false), "333m");
        assert_eq!(
            Quantity::parse("1Gi").unwrap().ceil_div(Quantity(UNIT)),
            1 << 30
        );
        assert_eq!(
            Quantity::parse("1500u").unwrap().ceil_div(Quantity(MILLI)),
            2
        );
    }
}
