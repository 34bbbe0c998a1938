//! Finding `.wf` tests (embedding.md §3): a `NAME.wf` is a test when a
//! sibling `NAME.expected` or `NAME.error` exists. Other `.wf` files are
//! helper modules and are skipped. Directories are searched recursively;
//! hidden ones (`.weft/`, `.git/`) are not entered and directory symlinks
//! are not followed.

use std::fs;
use std::path::{Path, PathBuf};

/// What a test must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// `NAME.expected`: the exact stdout (trailing newlines trimmed).
    Stdout(PathBuf),
    /// `NAME.error`: lines that must appear in the stderr of a failing run.
    Error(PathBuf),
    /// Both files exist; the test is reported as failing until one goes.
    Both,
}

/// One test found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The script's path, as reached from the searched path.
    pub script: PathBuf,
    pub expectation: Expectation,
    /// `NAME.fixture.jsonl`, when it exists.
    pub fixture: Option<PathBuf>,
}

impl TestCase {
    /// The directory the test runs in.
    pub fn dir(&self) -> &Path {
        match self.script.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    /// The path as shown in reports and matched by `--filter`.
    pub fn display_path(&self) -> String {
        self.script.display().to_string()
    }

    /// The test described by `script` (a `.wf` path), if it is one.
    pub fn at(script: &Path) -> Option<TestCase> {
        let stem = script.file_name()?.to_str()?.strip_suffix(".wf")?;
        let sibling = |ext: &str| script.with_file_name(format!("{stem}.{ext}"));
        let expected = sibling("expected");
        let error = sibling("error");
        let expectation = match (expected.is_file(), error.is_file()) {
            (true, false) => Expectation::Stdout(expected),
            (false, true) => Expectation::Error(error),
            (true, true) => Expectation::Both,
            (false, false) => return None,
        };
        let fixture = Some(sibling("fixture.jsonl")).filter(|f| f.is_file());
        Some(TestCase {
            script: script.to_path_buf(),
            expectation,
            fixture,
        })
    }
}

/// Every test under `roots`, sorted by path, each once. A root that does
/// not exist, or a `.wf` file named directly that is not a test, is an
/// error (a usage error of `weft test`).
pub fn discover(roots: &[PathBuf]) -> Result<Vec<TestCase>, String> {
    let mut found = Vec::new();
    for root in roots {
        let meta = fs::metadata(root)
            .map_err(|e| format!("cannot read test path '{}': {e}", root.display()))?;
        if meta.is_dir() {
            walk(root, &mut found)
                .map_err(|e| format!("cannot search '{}': {e}", root.display()))?;
        } else {
            let case = TestCase::at(root).ok_or_else(|| {
                format!(
                    "'{}' is not a test: a test is NAME.wf with NAME.expected or NAME.error beside it",
                    root.display()
                )
            })?;
            found.push(case);
        }
    }
    found.sort_by(|a, b| a.script.cmp(&b.script));
    found.dedup_by(|a, b| a.script == b.script);
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<TestCase>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&path, found)?;
            }
        } else if name.ends_with(".wf") && path.is_file() {
            found.extend(TestCase::at(&path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }

    #[test]
    fn finds_tests_and_skips_helpers() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for f in [
            "b/two.wf",
            "b/two.error",
            "a/one.wf",
            "a/one.expected",
            "a/one.fixture.jsonl",
            "a/helper.wf",
            "a/deep/three.wf",
            "a/deep/three.expected",
            ".hidden/four.wf",
            ".hidden/four.expected",
            "both.wf",
            "both.expected",
            "both.error",
            "orphan.expected",
        ] {
            touch(root, f);
        }
        let cases = discover(&[root.to_path_buf()]).unwrap();
        let rel: Vec<_> = cases
            .iter()
            .map(|c| {
                c.script
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(rel, ["a/deep/three.wf", "a/one.wf", "b/two.wf", "both.wf"]);
        assert_eq!(cases[1].fixture, Some(root.join("a/one.fixture.jsonl")));
        assert_eq!(cases[0].fixture, None);
        assert!(matches!(cases[2].expectation, Expectation::Error(_)));
        assert_eq!(cases[3].expectation, Expectation::Both);
    }

    #[test]
    fn roots_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(root, "helper.wf");
        touch(root, "t.wf");
        touch(root, "t.expected");
        assert!(discover(&[root.join("missing")])
            .unwrap_err()
            .contains("missing"));
        assert!(discover(&[root.join("helper.wf")])
            .unwrap_err()
            .contains("is not a test"));
        let twice = discover(&[root.join("t.wf"), root.to_path_buf()]).unwrap();
        assert_eq!(twice.len(), 1);
    }
}
