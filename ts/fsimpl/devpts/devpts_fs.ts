// devpts (Linux fs/devpts): the file system of the pty replica nodes. Its root holds ptmx
// (c 5:2, mode ptmxmode) and N for each open pty (mode=, and uid=/gid= when given, else the
// opener's). Each mount of devpts is an instance of its own with its own numbers, as on Linux
// 4.7+ (newinstance is implied); the kernel's first one is /dev/pts (devptsOf). Its root
// dentry is shared by the binds of it. It owns the nodes' place; the ptys are ptmx.ts's.

import type { Kernel } from '../../kernel/kernel';
import { Credentials } from '../../kernel/credentials';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import type { Statfs } from '../../abi/linux/fs';
import { devFsid } from '../../vfs/file_system';
import { S_IFCHR, makeDev } from '../../abi/linux/stat';
import { Dentry } from '../../vfs/dentry';
import type { Inode } from '../../vfs/inode';
import { TmpfsFS } from '../tmpfs/tmpfs';

export const DEV_PTMX = makeDev(5, 2);
const DEVPTS_SUPER_MAGIC = 0x1cd1;
/** NR_UNIX98_PTY_MAX. */
const PTY_MAX = 1 << 20;

export class DevptsFS extends TmpfsFS {
  override readonly type = 'devpts';
  /** devpts has no xattr handlers, nor ACLs. */
  override readonly keepsXattrs = false;
  /** The one root dentry every mount of this instance has (mounted as a bind of it). */
  readonly rootDentry: Dentry;
  /** Replica nodes' mode; ptmx's; owner and group if set (else the opener's); most ptys. */
  mode = 0o600; // DEVPTS_DEFAULT_MODE
  ptmxmode = 0o000; // DEVPTS_DEFAULT_PTMX_MODE
  uid: number | undefined;
  gid: number | undefined;
  max = PTY_MAX;
  private readonly ptmx: Inode;

  constructor(kernel: Kernel) {
    super(kernel.mf, { rootMode: 0o755 });
    this.ptmx = this.root.mknod('ptmx', S_IFCHR | this.ptmxmode, DEV_PTMX, new Credentials(0, 0));
    this.rootDentry = new Dentry('/', null, this.root);
  }

  override mountOptions(): string {
    const o: string[] = [];
    if (this.uid !== undefined) o.push(`uid=${this.uid}`);
    if (this.gid !== undefined) o.push(`gid=${this.gid}`);
    o.push(`mode=${this.mode.toString(8).padStart(3, '0')}`, `ptmxmode=${this.ptmxmode.toString(8).padStart(3, '0')}`);
    if (this.max < PTY_MAX) o.push(`max=${this.max}`);
    return o.join(',');
  }

  /** simple_statfs's fsid (its device), not tmpfs's uuid. */
  override get fsid(): [number, number] { return devFsid(this.dev); }

  override statfs(): Statfs {
    return {
      type: DEVPTS_SUPER_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0,
      fsid: [0, 0], namelen: 255, frsize: 4096, flags: 0,
    };
  }

  /** mount(2)'s data (devpts_parse_param): uid=, gid=, mode=, ptmxmode=, max=, newinstance;
   *  anything else, or a bad number, is EINVAL. All are checked before any applies. */
  configure(data: string): void {
    for (const f of this.parseOptions(data)) f();
  }

  /** configure's check: what each option would do, or EINVAL; nothing is applied. */
  parseOptions(data: string): Array<() => void> {
    const set: Array<() => void> = [];
    for (const opt of data.split(',').filter((x) => x !== '')) {
      const eq = opt.indexOf('=');
      const k = eq < 0 ? opt : opt.slice(0, eq), v = eq < 0 ? '' : opt.slice(eq + 1);
      const num = (re: RegExp, base: number): number => {
        if (!re.test(v)) fail(EINVAL);
        const n = parseInt(v, base);
        if (n > 0xffffffff) fail(EINVAL);
        return n;
      };
      switch (k) {
        case 'uid': { const n = num(/^[0-9]+$/, 10); set.push(() => { this.uid = n; }); break; }
        case 'gid': { const n = num(/^[0-9]+$/, 10); set.push(() => { this.gid = n; }); break; }
        case 'mode': { const n = num(/^[0-7]+$/, 8) & 0o7777; set.push(() => { this.mode = n; }); break; }
        case 'ptmxmode': {
          const n = num(/^[0-7]+$/, 8) & 0o7777;
          set.push(() => { this.ptmxmode = n; this.ptmx.setattr({ mode: n }); });
          break;
        }
        case 'max': {
          const n = num(/^[0-9]+$/, 10);
          if (n > PTY_MAX) fail(EINVAL);
          set.push(() => { this.max = n; });
          break;
        }
        case 'newinstance':
          if (eq >= 0) fail(EINVAL);
          break;
        default: fail(EINVAL);
      }
    }
    return set;
  }
}

const instances = new WeakMap<Kernel, DevptsFS>();

/** The kernel's devpts instance (made on first use). */
export function devptsOf(kernel: Kernel): DevptsFS {
  let fs = instances.get(kernel);
  if (fs === undefined) {
    instances.set(kernel, fs = new DevptsFS(kernel));
    fs.configure('mode=620,ptmxmode=666'); // /dev/pts as hosts mount it (systemd adds gid=5)
  }
  return fs;
}
