//! Is there a D-Bus session bus socket at all? Answered with one `stat`.
//!
//! Finding out through zbus costs a thread for the deadline, zbus's own
//! executor threads and a failed connect: most of a run's time, and on a
//! server, in a container or in CI the answer is nearly always "no". zbus
//! finds the session bus as the reference implementation does —
//! `DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`, else
//! `/run/user/EUID/bus` — so when that address is one plain `unix:path=`
//! socket and nothing is at that path, the tier is skipped without
//! connecting. Any other address (an abstract socket, tcp, a list of
//! addresses tried in turn) is left to zbus.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// The session bus socket path when it certainly does not exist.
pub(super) fn missing_socket() -> Option<PathBuf> {
    let path = socket_path(std::env::var_os("DBUS_SESSION_BUS_ADDRESS"))?;
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(path),
        _ => None,
    }
}

/// The socket path zbus would connect to, when it is a single `unix:path=`.
fn socket_path(address: Option<OsString>) -> Option<PathBuf> {
    let Some(address) = address else {
        let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
            .unwrap_or_else(|| format!("/run/user/{}", current_euid()).into());
        return Some(PathBuf::from(runtime_dir).join("bus"));
    };
    let address = address.to_str()?.trim_end_matches(';');
    let options = address.strip_prefix("unix:")?;
    if options.contains(';') {
        return None;
    }
    let mut path = None;
    for option in options.split(',') {
        let (key, value) = option.split_once('=')?;
        match key {
            "path" => path = Some(unescape(value)?),
            "guid" => {}
            // abstract=, dir=, tmpdir=, runtime=: not a plain path.
            _ => return None,
        }
    }
    path.map(|bytes| PathBuf::from(OsString::from_vec(bytes)))
}

fn current_euid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { nix::libc::geteuid() }
}

/// Undoes the address format's `%XX` escapes.
fn unescape(value: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(address: &str) -> Option<PathBuf> {
        socket_path(Some(address.into()))
    }

    #[test]
    fn plain_unix_paths_are_read() {
        assert_eq!(path_of("unix:path=/run/bus"), Some("/run/bus".into()));
        assert_eq!(
            path_of("unix:path=/tmp/a%20b,guid=0123abcd;"),
            Some("/tmp/a b".into())
        );
    }

    #[test]
    fn anything_else_is_left_to_zbus() {
        for address in [
            "unix:abstract=/tmp/dbus-x",
            "unix:path=/a;unix:path=/b",
            "tcp:host=localhost,port=4000",
            "unix:path=/bad%zz",
            "unix:tmpdir=/tmp",
            "",
        ] {
            assert_eq!(path_of(address), None, "{address}");
        }
    }
}
