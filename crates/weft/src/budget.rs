//! The root budget of an engine ([`Budget`], the CLI's `--budget`): what
//! every model call, worker and workflow of the engine's runs may spend
//! together, shared by all runs of the engine. Scripts open smaller scopes
//! below it (`budget:` options); see the guide's budgets section.

use crate::error::{Error, Result};

/// Limits of the root budget; `None` = no limit in that dimension.
///
/// ```
/// let b = weft::Budget::parse("tokens=5000,model_calls=20,cost_usd=0.25")?;
/// assert_eq!(b.tokens, Some(5000));
/// let mut engine = weft::Engine::builder()
///     .budget(b)
///     .price("gpt-4o-mini", 0.15, 0.60)
///     .build()?;
/// let left = weft::block_on(engine.eval("budget_remaining().model_calls"))?;
/// assert_eq!(left.as_int(), Some(20));
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    /// Input plus output tokens of every model call.
    pub tokens: Option<u64>,
    /// Model calls.
    pub model_calls: Option<u64>,
    /// Wall-clock milliseconds, from the engine's creation.
    pub wall_ms: Option<u64>,
    /// Workers spawned, at any depth.
    pub workers: Option<u64>,
    /// US dollars, priced with the engine's price table.
    pub cost_usd: Option<f64>,
}

impl Budget {
    /// Parses `KEY=VALUE[,KEY=VALUE...]` with the keys `tokens`,
    /// `model_calls`, `wall_ms`, `workers` (integers) and `cost_usd` (a
    /// number). An unknown key names the closest known one.
    pub fn parse(spec: &str) -> Result<Budget> {
        let mut b = Budget::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(Error::value(format!(
                    "budget: expected KEY=VALUE, got '{part}' (keys: {})",
                    KEYS.join(", ")
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            let int = || {
                value.parse::<u64>().map_err(|_| {
                    Error::value(format!(
                        "budget: {key} must be a whole number of at least 0, got '{value}'"
                    ))
                })
            };
            match key {
                "tokens" => b.tokens = Some(int()?),
                "model_calls" => b.model_calls = Some(int()?),
                "wall_ms" => b.wall_ms = Some(int()?),
                "workers" => b.workers = Some(int()?),
                "cost_usd" => {
                    let v: f64 = value
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| {
                            Error::value(format!(
                                "budget: cost_usd must be a number of at least 0, got '{value}'"
                            ))
                        })?;
                    b.cost_usd = Some(v);
                }
                other => {
                    let hint = weft_syntax::suggest::did_you_mean(other, KEYS)
                        .map(|s| format!(" (did you mean '{s}'?)"))
                        .unwrap_or_else(|| format!(" (keys: {})", KEYS.join(", ")));
                    return Err(Error::value(format!("budget: unknown key '{other}'{hint}")));
                }
            }
        }
        Ok(b)
    }

    pub(crate) fn limits(&self) -> weft_vm::budget::BudgetLimits {
        weft_vm::budget::BudgetLimits {
            tokens: self.tokens,
            model_calls: self.model_calls,
            wall_ms: self.wall_ms,
            workers: self.workers,
            cost_usd: self.cost_usd,
        }
    }
}

const KEYS: [&str; 5] = ["tokens", "model_calls", "wall_ms", "workers", "cost_usd"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_say_what_was_expected() {
        let e = Budget::parse("tokns=5").unwrap_err();
        assert_eq!(
            e.message(),
            "budget: unknown key 'tokns' (did you mean 'tokens'?)"
        );
        let e = Budget::parse("tokens").unwrap_err();
        assert!(
            e.message()
                .starts_with("budget: expected KEY=VALUE, got 'tokens'")
        );
        let e = Budget::parse("tokens=-1").unwrap_err();
        assert_eq!(
            e.message(),
            "budget: tokens must be a whole number of at least 0, got '-1'"
        );
        assert_eq!(
            Budget::parse(" wall_ms=10 , cost_usd=1.5").unwrap(),
            Budget {
                wall_ms: Some(10),
                cost_usd: Some(1.5),
                ..Budget::default()
            }
        );
    }
}
