export class MsgQueue { perm!: import('./perm').IpcPerm; }
