//! y = f(x) from an expression the user types, such as `x^2 + 2*x - 3`, sampled over a range.
//!
//! Parsing and evaluation are the `nanoexpr` crate's: `^` is a power (right-associative, and
//! `-x^2` is -(x²)), with `sqrt`, `exp`, `ln`, `log`, `sin`, `cos`, `tan`, `abs`, `min`, `max`, `pi`,
//! `e` and more. Its errors carry the byte span of the problem, shown here as a column and a caret
//! under the expression. The one variable is `x`.

use std::fmt;

use nanoexpr::{ErrorKind, Math};

/// What is wrong with an expression, where, and for which x.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    pub expr: String,
    pub kind: ErrorKind,
    /// Byte range of the problem in `expr`.
    pub span: (usize, usize),
    /// The x at which evaluation failed, for errors that depend on it (division by zero...).
    pub at_x: Option<f64>,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (start, end) = self.span;
        let column = self.expr[..start.min(self.expr.len())].chars().count() + 1;
        let width = self.expr.get(start..end).map_or(1, |s| s.chars().count().max(1));
        write!(f, "`{}`: {}", self.expr, self.kind)?;
        if self.kind == ErrorKind::UnknownVariable
            && let Some(name) = self.expr.get(start..end)
        {
            write!(f, " `{name}` (the variable is x)")?;
        }
        if self.kind == ErrorKind::UnknownFunction
            && let Some(name) = self.expr.get(start..end)
        {
            write!(f, " `{name}`")?;
        }
        if let Some(x) = self.at_x {
            write!(f, " at x = {x}")?;
        }
        write!(
            f,
            ", column {column}\n  {}\n  {}{}",
            self.expr,
            " ".repeat(column - 1),
            "^".repeat(width)
        )
    }
}

impl std::error::Error for ExprError {}

/// f(x) for the expression `expr`.
pub fn evaluate(expr: &str, x: f64) -> Result<f64, ExprError> {
    let variables = [("x", x)];
    nanoexpr::evaluate_with(expr, &(variables, Math)).map_err(|e| ExprError {
        expr: expr.to_owned(),
        kind: e.kind,
        span: (e.span.start, e.span.end),
        at_x: depends_on_x(e.kind).then_some(x),
    })
}

/// Whether an error of `kind` comes from the value of x rather than from the text.
fn depends_on_x(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::DivisionByZero | ErrorKind::Domain | ErrorKind::Overflow
    )
}

/// The points (x, f(x)) for x = from, from + step, ... up to `to` (included when a step lands on it,
/// within a millionth of a step). A non-finite f(x) is an error naming x.
pub fn sample(expr: &str, (from, to): (f64, f64), step: f64) -> Result<Vec<(f64, f64)>, ExprError> {
    let count = ((to - from) / step + 1e-6).floor() as usize + 1;
    (0..count)
        .map(|i| {
            let x = from + i as f64 * step;
            let y = evaluate(expr, x)?;
            if y.is_finite() {
                Ok((x, y))
            } else {
                Err(ExprError {
                    expr: expr.to_owned(),
                    kind: ErrorKind::Overflow,
                    span: (0, expr.len()),
                    at_x: Some(x),
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quadratic_parses_as_written() {
        for x in [-7.0, -1.0, 0.0, 0.5, 5.0] {
            assert_eq!(evaluate("x^2 + 2*x - 3", x).unwrap(), x * x + 2.0 * x - 3.0);
        }
        assert_eq!(evaluate("-x^2", 3.0).unwrap(), -9.0);
        assert_eq!(evaluate("2^3^2", 0.0).unwrap(), 512.0);
        assert!((evaluate("sin(x) * exp(-x)", 1.0).unwrap() - 1f64.sin() / 1f64.exp()).abs() < 1e-15);
    }

    #[test]
    fn sampling_includes_both_ends() {
        let points = sample("x", (-7.0, 5.0), 0.05).unwrap();
        assert_eq!(points.len(), 241);
        assert_eq!(points[0], (-7.0, -7.0));
        assert!((points[240].0 - 5.0).abs() < 1e-9);
        assert_eq!(sample("1", (0.0, 1.0), 0.3).unwrap().len(), 4);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let error = evaluate("x^2 +* 3", 0.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`x^2 +* 3`: unexpected token, column 6\n  x^2 +* 3\n       ^"
        );
        let error = evaluate("y + 1", 0.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`y + 1`: unknown variable `y` (the variable is x), column 1\n  y + 1\n  ^"
        );
        let error = evaluate("(x + 1", 0.0).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`(x + 1`: unclosed parenthesis, column 1"),
            "{error}"
        );
        let error = sample("1/x", (-1.0, 1.0), 0.5).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`1/x`: division by zero at x = 0, column 1\n  1/x\n  ^^^"
        );
    }
}
