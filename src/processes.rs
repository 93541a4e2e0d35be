//! The processes visible in `/proc`, with their parent and process group
//! (Linux): for killing a helper's whole tree on interrupt (`interrupt`)
//! and for stopping kstrun's whole job at a terminal (`terminal`).

/// One process, as its `/proc/PID/stat` line gives it.
pub(crate) struct Process {
    pub pid: i32,
    pub parent: i32,
    pub group: i32,
}

/// Every process visible in `/proc` now; one that ends while being read is
/// left out.
pub(crate) fn all() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid pgrp ...": comm may hold anything, so
            // split after the last ')'.
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(1);
            let parent = fields.next()?.parse().ok()?;
            let group = fields.next()?.parse().ok()?;
            Some(Process { pid, parent, group })
        })
        .collect()
}
