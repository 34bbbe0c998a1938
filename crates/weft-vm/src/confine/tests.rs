//! Unit tests of the confinement layer: links that lead out are refused at
//! open time whatever shape they take; links that stay inside work.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;

struct Setup {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    outside: PathBuf,
    roots: Vec<PathBuf>,
    dirs: RootDirs,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let ws = base.join("ws");
    let outside = base.join("outside");
    std::fs::create_dir_all(ws.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "secret").unwrap();
    std::fs::write(ws.join("sub/inner"), "inner").unwrap();
    Setup {
        _tmp: tmp,
        roots: vec![ws.clone()],
        ws,
        outside,
        dirs: RootDirs::default(),
    }
}

impl Setup {
    fn at(&self, rel: &str) -> FsTarget {
        locate(Some(&self.roots), &self.dirs, &self.ws.join(rel)).unwrap()
    }
}

fn escaped<T: std::fmt::Debug>(r: Result<T, FsError>) -> bool {
    matches!(r, Err(FsError::Escape(_)))
}

#[test]
fn dangling_links_and_chains_do_not_create_files_outside() {
    let s = setup();
    symlink(s.outside.join("new"), s.ws.join("dang")).unwrap();
    symlink("../outside/new2", s.ws.join("dang_rel")).unwrap();
    symlink("dang", s.ws.join("chain1")).unwrap();
    symlink("chain1", s.ws.join("chain2")).unwrap();
    for name in ["dang", "dang_rel", "chain2"] {
        assert!(escaped(s.at(name).write(b"x", false)), "{name}");
        assert!(escaped(s.at(name).write(b"x", true)), "{name}");
    }
    assert!(!s.outside.join("new").exists());
    assert!(!s.outside.join("new2").exists());
}

#[test]
fn links_out_are_refused_for_every_operation() {
    let s = setup();
    symlink(&s.outside, s.ws.join("out_abs")).unwrap();
    symlink("../outside", s.ws.join("out_rel")).unwrap();
    for link in ["out_abs", "out_rel"] {
        assert!(escaped(s.at(&format!("{link}/secret")).read(None)));
        assert!(escaped(s.at(&format!("{link}/secret")).exists()));
        assert!(escaped(s.at(link).list()));
        assert!(escaped(s.at(&format!("{link}/made")).mkdir_all()));
        assert!(escaped(s.at(&format!("{link}/secret")).remove_file()));
        assert!(escaped(s.at(link).check_plain_dir_path()));
    }
    assert!(s.outside.join("secret").exists());
    assert!(!s.outside.join("made").exists());
}

#[test]
fn links_that_stay_inside_work_and_removal_removes_the_link() {
    let s = setup();
    symlink("sub/inner", s.ws.join("alias")).unwrap();
    match s.at("alias").read(None).unwrap() {
        ReadOutcome::Bytes(b) => assert_eq!(b, b"inner"),
        other => panic!("{other:?}"),
    }
    s.at("alias").remove_file().unwrap();
    assert!(s.ws.join("sub/inner").exists());
    assert_eq!(s.at(".").list().unwrap(), ["sub"]);
    s.at("a/b/c").mkdir_all().unwrap();
    assert!(s.at("a/b").is_dir().unwrap());
    s.at("a/b/c/f.txt").check_plain_dir_path().unwrap();
}

#[test]
fn paths_outside_every_root_are_not_located() {
    let s = setup();
    let err = locate(Some(&s.roots), &s.dirs, &s.outside.join("secret")).unwrap_err();
    assert!(
        err.reason.contains("outside the workspace roots"),
        "{err:?}"
    );
    // `..` is folded before choosing a root.
    assert!(locate(
        Some(&s.roots),
        &s.dirs,
        &s.ws.join("sub/../../outside/secret")
    )
    .is_err());
    // A cwd reached through a link into the root still lands beneath it.
    let via = s.outside.join("to_ws");
    symlink(&s.ws, &via).unwrap();
    let t = locate(Some(&s.roots), &s.dirs, &via.join("sub/inner")).unwrap();
    assert!(matches!(t.read(None).unwrap(), ReadOutcome::Bytes(_)));
}

#[test]
fn special_files_and_oversized_files_are_errors_not_hangs() {
    let s = setup();
    let fifo = s.ws.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = s.at("fifo").read(None).unwrap_err();
    assert!(matches!(err, FsError::Io(_)), "{err:?}");
    assert!(read_regular(&fifo, 10).is_err());
    assert!(matches!(
        s.at("fifo").write(b"x", false),
        Err(FsError::Io(_))
    ));
    assert!(matches!(
        s.at("fifo").write(b"x", true),
        Err(FsError::Io(_))
    ));
    assert!(read_regular(Path::new("/dev/zero"), 1 << 20).is_err());
    assert!(s.at("sub").read(None).is_err());
    std::fs::write(s.ws.join("big"), vec![b'a'; 100]).unwrap();
    assert!(matches!(
        s.at("big").read(Some(10)).unwrap(),
        ReadOutcome::TooLong(100)
    ));
    assert!(read_regular(&s.ws.join("big"), 10).is_err());
    assert_eq!(read_regular(&s.ws.join("big"), 100).unwrap().len(), 100);
}

#[test]
fn a_child_root_is_opened_through_the_parent_handle() {
    let s = setup();
    // The parent has opened its root; the child's root `ws/sub` was checked
    // (a real directory beneath the parent's root) before it is first used.
    assert!(!escaped(s.at("sub/inner").exists()));
    let child_roots = vec![s.ws.join("sub")];
    let child = RootDirs::beneath(Some(&s.roots), &s.dirs);
    let at = |rel: &str| locate(Some(&child_roots), &child, &s.ws.join(rel)).unwrap();
    // Then `ws/sub` is swapped for a link to a directory outside.
    std::fs::rename(s.ws.join("sub"), s.ws.join("sub_old")).unwrap();
    symlink(&s.outside, s.ws.join("sub")).unwrap();
    assert!(escaped(at("sub/secret").read(None)));
    assert!(escaped(at("sub/planted").write(b"x", false)));
    assert!(!s.outside.join("planted").exists());
    // Opened by path from the process root, the same root would escape.
    let ambient = RootDirs::default();
    let read = locate(Some(&child_roots), &ambient, &s.ws.join("sub/secret"))
        .unwrap()
        .read(None);
    assert!(matches!(read, Ok(ReadOutcome::Bytes(b)) if b == b"secret"));
}

#[test]
fn a_child_root_beneath_the_parent_works_and_equal_roots_share_handles() {
    let s = setup();
    let child_roots = vec![s.ws.join("sub")];
    let child = RootDirs::beneath(Some(&s.roots), &s.dirs);
    let t = locate(Some(&child_roots), &child, &s.ws.join("sub/inner")).unwrap();
    assert!(matches!(t.read(None), Ok(ReadOutcome::Bytes(b)) if b == b"inner"));
    let same = RootDirs::beneath(Some(&s.roots), &s.dirs);
    let t = locate(Some(&s.roots), &same, &s.ws.join("sub/inner")).unwrap();
    assert!(matches!(t.read(None), Ok(ReadOutcome::Bytes(b)) if b == b"inner"));
}
