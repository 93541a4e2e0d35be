//! Is there a D-Bus session bus socket at all? Answered with one `stat`.
//!
//! Finding out through zbus costs a thread for the deadline, zbus's own
//! executor threads and a failed connect: most of a run's time, and on a
//! server, in a container or in CI the answer is nearly always "no". zbus
//! finds the session bus as the reference implementation does —
//! `DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`, else
//! `/run/user/EUID/bus` — so when that address is one plain `unix:path=`
//! socket and nothing is at that path, the tier is skipped without
//! connecting. An abstract socket or tcp is left to zbus.
//!
//! A list of addresses (`a;b`, or one address ending in `;`), which the
//! D-Bus specification allows and libdbus tries in turn, zbus reads as one
//! address whose last value runs on past the `;`: it would fail to connect
//! and the tier would be skipped, handing a secret the keyring holds to a
//! lower tier or a default. Such an address is named instead, unless no
//! socket it lists exists.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// What the session bus address tells before anything connects.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SessionBus {
    /// Nothing is at the socket path(s) it names: there is no bus.
    Missing(PathBuf),
    /// A list of addresses, some of which may answer: zbus cannot use it.
    List,
    /// Anything else: left to zbus.
    Unknown,
}

/// Reads `DBUS_SESSION_BUS_ADDRESS` (or the default place) and looks at the
/// socket paths it names.
pub(super) fn look() -> SessionBus {
    classify(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS"),
        |path| matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound),
    )
}

fn classify(address: Option<OsString>, missing: impl Fn(&PathBuf) -> bool) -> SessionBus {
    let Some(address) = address else {
        let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
            .unwrap_or_else(|| format!("/run/user/{}", current_euid()).into());
        let path = PathBuf::from(runtime_dir).join("bus");
        return if missing(&path) {
            SessionBus::Missing(path)
        } else {
            SessionBus::Unknown
        };
    };
    let Some(text) = address.to_str() else {
        return SessionBus::Unknown;
    };
    let entries: Vec<&str> = text.split(';').filter(|e| !e.is_empty()).collect();
    let paths: Option<Vec<PathBuf>> = entries.iter().map(|entry| socket_path(entry)).collect();
    match paths {
        Some(paths) if !paths.is_empty() && paths.iter().all(&missing) => {
            SessionBus::Missing(paths[0].clone())
        }
        _ if text.contains(';') => SessionBus::List,
        _ => SessionBus::Unknown,
    }
}

/// The socket path of one address, when it is a plain `unix:path=`.
fn socket_path(address: &str) -> Option<PathBuf> {
    let options = address.strip_prefix("unix:")?;
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

    /// Classifies `address` where only the paths in `present` exist.
    fn look_at(address: &str, present: &[&str]) -> SessionBus {
        classify(Some(address.into()), |path| {
            !present.iter().any(|p| path == &PathBuf::from(p))
        })
    }

    #[test]
    fn a_plain_unix_path_with_nothing_there_is_no_bus() {
        assert_eq!(
            look_at("unix:path=/run/bus", &[]),
            SessionBus::Missing("/run/bus".into())
        );
        assert_eq!(
            look_at("unix:path=/tmp/a%20b,guid=0123abcd;", &[]),
            SessionBus::Missing("/tmp/a b".into())
        );
        assert_eq!(
            look_at("unix:path=/a;unix:path=/b", &[]),
            SessionBus::Missing("/a".into())
        );
        assert_eq!(
            look_at("unix:path=/run/bus", &["/run/bus"]),
            SessionBus::Unknown
        );
    }

    #[test]
    fn a_list_that_may_answer_is_named() {
        for address in [
            "unix:path=/run/bus;",
            "unix:path=/a;unix:path=/run/bus",
            "unix:abstract=/tmp/x;unix:path=/a",
            "tcp:host=localhost,port=4000;",
        ] {
            assert_eq!(
                look_at(address, &["/run/bus"]),
                SessionBus::List,
                "{address}"
            );
        }
    }

    #[test]
    fn anything_else_is_left_to_zbus() {
        for address in [
            "unix:abstract=/tmp/dbus-x",
            "tcp:host=localhost,port=4000",
            "unix:path=/bad%zz",
            "unix:tmpdir=/tmp",
            "",
        ] {
            assert_eq!(look_at(address, &[]), SessionBus::Unknown, "{address}");
        }
    }
}
