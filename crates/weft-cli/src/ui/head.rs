//! The list fields of a record — what the runs list reads — parsed
//! without building the rest (outputs, transcripts, definitions), which
//! keeps listing thousands of records fast. `_type` and `version` are
//! checked as the store checks them.

use std::path::Path;

use serde_json::Value as Json;

/// The list fields of a run record or worker snapshot; stages keep only
/// their `worker_id`.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(rename = "_type")]
    type_name: Option<String>,
    version: Option<u64>,
    id: Option<Json>,
    name: Option<Json>,
    workflow: Option<Json>,
    status: Option<Json>,
    task: Option<Json>,
    created_at: Option<Json>,
    started_at: Option<Json>,
    finished_at: Option<Json>,
    usage: Option<Json>,
    budget: Option<Json>,
    parent_id: Option<Json>,
    stages: Option<Vec<StageHead>>,
}

#[derive(serde::Deserialize)]
struct StageHead {
    worker_id: Option<Json>,
}

impl Head {
    fn into_json(self) -> Json {
        let mut m = serde_json::Map::new();
        let fields = [
            ("id", self.id),
            ("name", self.name),
            ("workflow", self.workflow),
            ("status", self.status),
            ("task", self.task),
            ("created_at", self.created_at),
            ("started_at", self.started_at),
            ("finished_at", self.finished_at),
            ("usage", self.usage),
            ("budget", self.budget),
            ("parent_id", self.parent_id),
        ];
        for (k, v) in fields {
            m.insert(k.to_string(), v.unwrap_or(Json::Null));
        }
        if let Some(stages) = self.stages {
            let stages = stages
                .into_iter()
                .map(|st| serde_json::json!({"worker_id": st.worker_id}))
                .collect();
            m.insert("stages".to_string(), Json::Array(stages));
        }
        Json::Object(m)
    }
}

/// The list fields of the `type_name` record at `path`.
pub fn read_head(path: &Path, type_name: &str) -> Result<Json, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let head: Head = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
    if head.type_name.as_deref() != Some(type_name) {
        return Err(format!("{}: not a {type_name} record", path.display()));
    }
    if head.version != Some(1) {
        return Err(format!("{}: unknown {type_name} version", path.display()));
    }
    Ok(head.into_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_keep_the_list_fields_and_check_the_type() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        std::fs::write(
            &p,
            r#"{"_type":"weft.run","version":1,"id":"r_1","status":"completed","outputs":{"big":"x"},
               "stages":[{"node":"a","worker_id":"w_1","output":"long"}]}"#,
        )
        .unwrap();
        let h = read_head(&p, "weft.run").unwrap();
        assert_eq!(h["id"], "r_1");
        assert_eq!(h["stages"][0], serde_json::json!({"worker_id": "w_1"}));
        assert!(h.get("outputs").is_none());
        assert!(read_head(&p, "weft.worker")
            .unwrap_err()
            .contains("not a weft.worker record"));
        std::fs::write(&p, "{").unwrap();
        assert!(read_head(&p, "weft.run")
            .unwrap_err()
            .contains("not valid JSON"));
    }
}
