//! The per-model price table behind `cost_usd` budgets: US dollars per
//! million input and output tokens, by model name. Configured by the host
//! (`--prices FILE.json`, `EngineBuilder::prices`); there are no built-in
//! prices. A model missing from the table cannot be charged to a
//! `cost_usd` budget (the call is refused with `value_error`).

use std::collections::HashMap;

/// Prices of one model, in dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

/// Model name → price.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PriceTable {
    pub models: HashMap<String, Price>,
}

impl PriceTable {
    /// Parses `{"MODEL": {"input_per_mtok": N, "output_per_mtok": N}, ...}`.
    pub fn from_json(v: &serde_json::Value) -> Result<PriceTable, String> {
        let serde_json::Value::Object(m) = v else {
            return Err("the price table must be a JSON object of model names".into());
        };
        let mut models = HashMap::new();
        for (model, p) in m {
            let serde_json::Value::Object(pm) = p else {
                return Err(format!(
                    "price of '{model}' must be an object {{input_per_mtok, output_per_mtok}}"
                ));
            };
            const KEYS: [&str; 2] = ["input_per_mtok", "output_per_mtok"];
            for k in pm.keys() {
                if !KEYS.contains(&k.as_str()) {
                    let hint = weft_syntax::suggest::did_you_mean(k, KEYS)
                        .map(|s| format!(" (did you mean '{s}'?)"))
                        .unwrap_or_default();
                    return Err(format!("price of '{model}': unknown key '{k}'{hint}"));
                }
            }
            let num = |k: &str| -> Result<f64, String> {
                match pm.get(k).and_then(|x| x.as_f64()) {
                    Some(n) if n >= 0.0 && n.is_finite() => Ok(n),
                    _ => Err(format!(
                        "price of '{model}': '{k}' must be a number of at least 0"
                    )),
                }
            };
            models.insert(
                model.clone(),
                Price {
                    input_per_mtok: num("input_per_mtok")?,
                    output_per_mtok: num("output_per_mtok")?,
                },
            );
        }
        Ok(PriceTable { models })
    }

    /// The cost of a call in pico-dollars (rounded up), or `None` when the
    /// model has no price.
    pub fn cost_pico(&self, model: &str, input: u64, output: u64) -> Option<u64> {
        let p = self.models.get(model)?;
        // $/Mtok = 1e12 pico$ / 1e6 tok = 1e6 pico$ per token per $/Mtok.
        let pico = input as f64 * p.input_per_mtok * 1e6 + output as f64 * p.output_per_mtok * 1e6;
        Some(pico.ceil() as u64)
    }

    /// Output tokens affordable with `pico` pico-dollars (`None` = free).
    pub fn output_affordable(&self, model: &str, pico: u64) -> Option<u64> {
        let p = self.models.get(model)?;
        if p.output_per_mtok <= 0.0 {
            return None;
        }
        Some((pico as f64 / (p.output_per_mtok * 1e6)).floor() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prices() {
        let t = PriceTable::from_json(&serde_json::json!({
            "small": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}
        }))
        .unwrap();
        // 1000 in + 500 out = $0.001 + $0.001.
        assert_eq!(t.cost_pico("small", 1000, 500), Some(2_000_000_000));
        assert_eq!(t.cost_pico("other", 1, 1), None);
        assert_eq!(t.output_affordable("small", 2_000_000), Some(1));
        let e = PriceTable::from_json(&serde_json::json!({"m": {"input_per_mtk": 1}})).unwrap_err();
        assert_eq!(
            e,
            "price of 'm': unknown key 'input_per_mtk' (did you mean 'input_per_mtok'?)"
        );
        assert!(PriceTable::from_json(&serde_json::json!([])).is_err());
    }
}
