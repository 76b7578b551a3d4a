//! File systems on local disks or in memory, whose calls end in bounded time. Anything else
//! (FUSE, NFS, CIFS, 9p, ceph, ...) may make a call wait as long as its server or daemon
//! wants: the gofer serves requests on it on a worker thread (PROTOCOL.md, Requests that
//! wait), and the sentry reads and writes donated fds on it off its own thread. One list for
//! both: the addon includes this file (crates/addon/src/lib.rs, host_fd_may_block and
//! host_tree_may_block, which names file systems as /proc/self/mountinfo does).

const LOCAL_FS: &[i64] = &[
    0xef53,     // ext2/3/4
    0x58465342, // xfs
    0x9123683e, // btrfs
    0x01021994, // tmpfs
    0x858458f6, // ramfs
    0x958458f6, // hugetlbfs
    0x794c7630, // overlayfs
    0xf2f52010, // f2fs
    0x73717368, // squashfs
    0xe0f5e1e2, // erofs
    0x2fc12fc1, // zfs
    0xca451a4e, // bcachefs
    0x4d44,     // vfat, msdos
    0x2011bab0, // exfat
    0x9660,     // iso9660
    0x52654973, // reiserfs
    0x3153464a, // jfs
    0x3434,     // nilfs2
    0x482b,     // hfsplus
    0x15013346, // udf
    0x5346544e, // ntfs, ntfs3
    0xf15f,     // ecryptfs (over a local one)
];


/// Whether calls on a file system of this fstatfs magic may block without bound.
pub fn may_block(magic: i64) -> bool {
    !LOCAL_FS.contains(&magic)
}

/// LOCAL_FS by the names mountinfo gives them, and the pseudo file systems (the gofer walks
/// into none of them: ops_read.rs, PSEUDO_FS; devtmpfs is a tmpfs).
#[allow(dead_code)] // the addon's only: the gofer knows the magic of what it opens
const LOCAL_FS_NAMES: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "devtmpfs", "ramfs", "hugetlbfs", "overlay", "f2fs",
    "squashfs", "erofs", "zfs", "bcachefs", "vfat", "msdos", "exfat", "iso9660", "reiserfs", "jfs", "nilfs2",
    "hfsplus", "udf", "ntfs", "ntfs3", "ecryptfs",
    "proc", "sysfs", "devpts", "debugfs", "tracefs", "securityfs", "cgroup", "cgroup2", "bpf", "configfs",
    "fusectl", "pstore", "efivarfs", "binfmt_misc", "mqueue", "nsfs",
];

/// Whether calls on a file system of this mountinfo type ("fuse.sshfs", "nfs4") may block.
#[allow(dead_code)] // as LOCAL_FS_NAMES
pub fn type_may_block(fstype: &str) -> bool {
    !LOCAL_FS_NAMES.contains(&fstype)
}
