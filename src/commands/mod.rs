//! kstrun's subcommands other than running a program, one per file.

pub mod check;
pub mod export;
pub mod generate;
pub mod init;
pub mod shred;
