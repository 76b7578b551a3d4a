// The QEMU human monitor of the guest, on a unix socket (`-mon mode=readline`): used only when
// the guest goes silent, to say where each of its vCPUs was before it is killed (the two-vCPU
// freeze of issue 11 left nothing on the guest's own console).
import { connect } from 'node:net';

/** QEMU arguments for a monitor on `path`, to be added to TSVISOR_KVM_QEMU_ARGS. */
export function monitorArgs(path) {
  return `-chardev socket,id=tsvmon,path=${path},server=on,wait=off -mon chardev=tsvmon,mode=readline`;
}

/** Sends each command and resolves to its answer's text (prompt and echo removed), or to
 *  whatever came before `timeoutMs` passed; never rejects. */
export function ask(path, commands, timeoutMs = 15_000) {
  return new Promise((resolve) => {
    const answers = [];
    let buf = '';
    let next = 0;
    const sock = connect(path);
    const done = () => { clearTimeout(timer); sock.destroy(); resolve(answers); };
    const timer = setTimeout(done, timeoutMs);
    sock.on('error', (e) => { answers.push(`(monitor: ${e.message})`); done(); });
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.endsWith('(qemu) ')) return;
      // The first prompt is the greeting; each later one ends the answer to a command.
      if (next > 0) answers.push(clean(buf, commands[next - 1]));
      buf = '';
      if (next === commands.length) return done();
      sock.write(`${commands[next++]}\n`);
    });
  });
}

/** The readline monitor echoes the command with cursor movements: keep the lines after it. */
function clean(text, command) {
  const lines = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/);
  const at = lines.findIndex((l) => l.endsWith(command));
  return lines.slice(at + 1).filter((l) => l !== '(qemu) ' && l.length > 0).join('\n');
}

/** From `info registers -a`, the lines that say where each vCPU is: RIP with CPL and HLT, CS,
 *  the control registers (CR3 tells an L2 of ours from the L1 kernel), EFER. */
export function whereVcpus(registers) {
  return registers.split('\n').filter((l) => /^(CPU#\d+|RIP=|CS =|CR0=|EFER=)/.test(l));
}
