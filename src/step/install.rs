//! `kueueleuleu-step install DEST`: the init container copies the runner into the shared
//! bin volume, so step containers can run it whatever their image.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::error::StepError;

/// Copies the running executable to `dest` with mode 0555, atomically (a restarted init
/// container never leaves a half-written runner behind).
pub fn install(dest: &Path) -> Result<(), StepError> {
    install_from(Path::new("/proc/self/exe"), dest).map_err(|source| StepError::Install {
        dest: dest.to_path_buf(),
        source,
    })
}

fn install_from(src: &Path, dest: &Path) -> io::Result<()> {
    // Opening /proc/self/exe reaches the binary even when its path is not visible here.
    let mut input = File::open(src).or_else(|_| File::open(std::env::current_exe()?))?;
    let file_name = dest.file_name().ok_or(io::ErrorKind::InvalidInput)?;
    let tmp = dest.with_file_name(format!(".{}.tmp", file_name.to_string_lossy()));
    let mut out = File::create(&tmp)?;
    io::copy(&mut input, &mut out)?;
    out.set_permissions(fs::Permissions::from_mode(0o555))?;
    drop(out);
    fs::rename(&tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_with_mode_0555_and_replaces_an_old_copy() {
        let dir = crate::step::test_support::fresh_dir("install");
        let src = dir.join("src");
        fs::write(&src, b"binary").unwrap();
        let dest = dir.join("kueueleuleu-step");
        install_from(&src, &dest).unwrap();
        install_from(&src, &dest).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"binary");
        assert_eq!(
            fs::metadata(&dest).unwrap().permissions().mode() & 0o7777,
            0o555
        );
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            2,
            "temp file left behind"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
