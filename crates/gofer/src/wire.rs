//! 9P2000.L framing: a bounds-checked reader over one request and a writer for one reply.
//! Every decode error is `Malformed`: the session cannot trust the stream after it.

pub const NOFID: u32 = !0;
pub const HEADER: usize = 7; // size[4] type[1] tag[2]

#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.pos.checked_add(n).ok_or(Malformed)?;
        let s = self.buf.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.bytes(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, Malformed> {
        Ok(u16::from_le_bytes(self.bytes(2)?.try_into().unwrap()))
    }
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().unwrap()))
    }
    pub fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().unwrap()))
    }
    /// A 9P string: len[2] bytes. Not required to be UTF-8 (host names are bytes).
    pub fn str(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u16()? as usize;
        self.bytes(n)
    }
}

/// A reply under construction; `finish` patches in the size.
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new(rtype: u8, tag: u16) -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0, 0, 0, 0, rtype]);
        buf.extend_from_slice(&tag.to_le_bytes());
        Writer { buf }
    }
    /// A writer over a recycled buffer (its contents dropped, its capacity kept).
    pub fn reuse(mut buf: Vec<u8>, rtype: u8, tag: u16) -> Self {
        buf.clear();
        buf.extend_from_slice(&[0, 0, 0, 0, rtype]);
        buf.extend_from_slice(&tag.to_le_bytes());
        Writer { buf }
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn str(&mut self, s: &[u8]) -> &mut Self {
        let n = s.len().min(u16::MAX as usize);
        self.u16(n as u16);
        self.buf.extend_from_slice(&s[..n]);
        self
    }
    pub fn qid(&mut self, q: &Qid) -> &mut Self {
        self.u8(q.ty).u32(q.version).u64(q.path)
    }
    pub fn finish(mut self) -> Vec<u8> {
        let n = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qid {
    pub ty: u8,
    pub version: u32,
    pub path: u64,
}

pub const QTDIR: u8 = 0x80;
pub const QTSYMLINK: u8 = 0x02;
pub const QTFILE: u8 = 0;

/// Devices whose inode numbers go on the wire as they are (the trees' roots), and the others
/// met below them (submounts), which get a prefix in the top byte so that two files on
/// different file systems of one tree never share a qid path (as QEMU's multidevs=remap).
struct Devs {
    native: Vec<u64>,
    foreign: Vec<u64>,
    /// Devices met so far and whether calls on them may block (dev_may_block).
    blocking: Vec<(u64, bool)>,
}

/// Shared by the serving loop and the worker threads (workers.rs), which both make qids.
static DEVS: std::sync::Mutex<Devs> = std::sync::Mutex::new(Devs { native: Vec::new(), foreign: Vec::new(), blocking: Vec::new() });

fn devs() -> std::sync::MutexGuard<'static, Devs> {
    DEVS.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn register_tree_dev(dev: u64) {
    let mut d = devs();
    if !d.native.contains(&dev) {
        d.native.push(dev);
    }
}

pub fn qid_path(dev: u64, ino: u64) -> u64 {
    let mut d = devs();
    if d.native.contains(&dev) || ino >> 56 != 0 {
        return ino;
    }
    let i = match d.foreign.iter().position(|&f| f == dev) {
        Some(i) => i,
        None => {
            d.foreign.push(dev);
            d.foreign.len() - 1
        }
    };
    if i >= 255 {
        ino
    } else {
        ((i as u64 + 1) << 56) | ino
    }
}

/// Whether calls on device `dev` may block without bound (fd: a node on it, asked once per
/// device). A device whose type cannot be read is taken to be one that may.
pub fn dev_may_block(dev: u64, fd: std::os::fd::RawFd) -> bool {
    if let Some(&(_, b)) = devs().blocking.iter().find(|(d, _)| *d == dev) {
        return b;
    }
    let b = crate::host::fstatfs(fd).map_or(true, |st| crate::local_fs::may_block(st.f_type as i64));
    let mut d = devs();
    if d.blocking.len() < 4096 {
        d.blocking.push((dev, b));
    }
    b
}

pub fn qid_of(st: &libc::stat) -> Qid {
    let ty = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => QTDIR,
        libc::S_IFLNK => QTSYMLINK,
        _ => QTFILE,
    };
    Qid { ty, version: 0, path: qid_path(st.st_dev, st.st_ino) }
}

/// Message types (Linux include/net/9p/9p.h numbering).
pub mod t {
    pub const RLERROR: u8 = 7;
    pub const TSTATFS: u8 = 8;
    pub const TLOPEN: u8 = 12;
    pub const TLCREATE: u8 = 14;
    pub const TSYMLINK: u8 = 16;
    pub const TMKNOD: u8 = 18;
    pub const TRENAME: u8 = 20;
    pub const TREADLINK: u8 = 22;
    pub const TGETATTR: u8 = 24;
    pub const TSETATTR: u8 = 26;
    pub const TXATTRWALK: u8 = 30;
    pub const TXATTRCREATE: u8 = 32;
    pub const TREADDIR: u8 = 40;
    /// Our extension (PROTOCOL.md): Treaddir with each entry's attributes and an end flag.
    pub const TREADDIRATTR: u8 = 130;
    /// Our extension (PROTOCOL.md): Twalk with every step's attributes and the failing
    /// step's errno.
    pub const TWALKGETATTR: u8 = 132;
    /// Our extension (PROTOCOL.md): Trenameat with renameat2's flags.
    pub const TRENAMEAT2: u8 = 134;
    pub const TFSYNC: u8 = 50;
    pub const TLOCK: u8 = 52;
    pub const TGETLOCK: u8 = 54;
    pub const TLINK: u8 = 70;
    pub const TMKDIR: u8 = 72;
    pub const TRENAMEAT: u8 = 74;
    pub const TUNLINKAT: u8 = 76;
    pub const TVERSION: u8 = 100;
    pub const TAUTH: u8 = 102;
    pub const TATTACH: u8 = 104;
    pub const TFLUSH: u8 = 108;
    pub const TWALK: u8 = 110;
    pub const TREAD: u8 = 116;
    pub const TWRITE: u8 = 118;
    pub const TCLUNK: u8 = 120;
    pub const TREMOVE: u8 = 122;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_to_run_past_the_end() {
        let mut r = Reader::new(&[5, 0, b'a', b'b']);
        assert_eq!(r.str(), Err(Malformed));
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(Malformed));
        assert_eq!(r.u16().unwrap(), 0x0201);
    }

    #[test]
    fn writer_patches_size() {
        let mut w = Writer::new(101, 0xffff);
        w.u32(8192).str(b"9P2000.L");
        let b = w.finish();
        assert_eq!(u32::from_le_bytes(b[..4].try_into().unwrap()) as usize, b.len());
        assert_eq!(&b[4..7], &[101, 0xff, 0xff]);
    }
}
