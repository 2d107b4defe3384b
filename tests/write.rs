//! The output directory under stress: concurrent renders, links, obstacles, a tampered
//! manifest. In every failure OUT is left exactly as it was and nothing outside it changes.

mod common;
use common::*;
use std::fs;

const HARDENED: &str = "fixtures/hardened/kexpose.yaml";

fn spec() -> String {
    root().join(HARDENED).to_string_lossy().into_owned()
}

#[test]
fn a_second_render_into_the_same_out_is_refused_while_one_holds_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        kexpose(&["render", &spec(), "-o", "out"], tmp.path()).code,
        0
    );
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(tmp.path().join(".out.kexpose-lock"))
        .unwrap();
    lock.lock().unwrap();
    let before = read_tree(&tmp.path().join("out"));
    let run = kexpose(&["render", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("another kexpose is writing"),
        "{}",
        run.stderr
    );
    assert_eq!(read_tree(&tmp.path().join("out")), before);
    lock.unlock().unwrap();
    assert_eq!(
        kexpose(&["render", &spec(), "-o", "out"], tmp.path()).code,
        0
    );
}

#[test]
fn concurrent_renders_never_corrupt_out() {
    let tmp = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_kexpose"))
                .args(["render", &spec(), "-o", "out"])
                .current_dir(tmp.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().unwrap();
        assert!(
            code == 0
                || (code == 2 && String::from_utf8_lossy(&out.stderr).contains("another kexpose")),
            "{code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let check = kexpose(&["render", &spec(), "-o", "out", "--check"], tmp.path());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("kexpose-new") || n.contains("kexpose-old"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn links_in_out_are_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::create_dir(tmp.path().join("out")).unwrap();
    std::os::unix::fs::symlink(&outside, tmp.path().join("out/apirules")).unwrap();
    let run = kexpose(&["render", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);

    // A user's link elsewhere in OUT is kept as a link.
    fs::remove_file(tmp.path().join("out/apirules")).unwrap();
    std::os::unix::fs::symlink(&outside, tmp.path().join("out/docs")).unwrap();
    let run = kexpose(&["render", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        fs::symlink_metadata(tmp.path().join("out/docs"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);

    // A generated file replaced by a link is refused, for writing and for diffs.
    fs::write(
        outside.join("secret.yaml"),
        "kind: Secret\nmetadata: {name: s}\nstringData: {a: LEAK}\n",
    )
    .unwrap();
    fs::remove_file(tmp.path().join("out/namespaces.yaml")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("secret.yaml"),
        tmp.path().join("out/namespaces.yaml"),
    )
    .unwrap();
    let run = kexpose(&["diff", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(!run.stdout.contains("LEAK"));
    let run = kexpose(&["render", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn obstacles_leave_out_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        kexpose(&["render", &spec(), "-o", "out"], tmp.path()).code,
        0
    );
    // A directory where a file goes.
    fs::remove_file(tmp.path().join("out/namespaces.yaml")).unwrap();
    fs::create_dir(tmp.path().join("out/namespaces.yaml")).unwrap();
    let before = read_tree(&tmp.path().join("out"));
    let run = kexpose(&["render", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("is a directory where kexpose writes a file"),
        "{}",
        run.stderr
    );
    assert_eq!(read_tree(&tmp.path().join("out")), before);
    assert!(tmp.path().join("out/namespaces.yaml").is_dir());
    // OUT itself a file.
    fs::write(tmp.path().join("file"), "x").unwrap();
    let run = kexpose(&["render", &spec(), "-o", "file"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a directory"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(tmp.path().join("file")).unwrap(), "x");
}

#[test]
fn a_tampered_manifest_cannot_reach_outside_out() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        kexpose(&["render", &spec(), "-o", "out"], tmp.path()).code,
        0
    );
    fs::write(tmp.path().join("precious.txt"), "keep").unwrap();
    let manifest = tmp.path().join("out/.kexpose-manifest");
    let mut text = fs::read_to_string(&manifest).unwrap();
    text.push_str("../precious.txt\n");
    fs::write(&manifest, text).unwrap();
    let run = kexpose(&["render", &spec(), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a path inside the directory"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("precious.txt")).unwrap(),
        "keep"
    );
}
