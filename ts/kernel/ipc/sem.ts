// placeholder replaced below
export class SemSet { perm!: import('./perm').IpcPerm; }
