// Which sandboxes use --network=host: their AF_INET/AF_INET6 sockets are host sockets.

const hostNetwork = new WeakSet<object>();

export function setHostNetwork(kernel: object): void { hostNetwork.add(kernel); }

export function isHostNetwork(kernel: object): boolean { return hostNetwork.has(kernel); }
