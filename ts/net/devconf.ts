// IPv4 per-device configuration of each network namespace (Linux struct ipv4_devconf,
// net/ipv4/devinet.c), as /proc/sys/net/ipv4/conf/{all,default,DEV} shows it. Only fields the
// stack has no behaviour for are kept (tag, a label for the administrator). A new namespace
// copies the initial namespace's "all" and "default" (devconf_inherit_init_net 0) and its
// loopback starts from its "default"; a write to "default" reaches every device whose value
// was never written itself (devinet_copy_dflt_conf).

/** The fields kept, with Linux's compiled-in values. */
export const DEVCONF_DEFAULTS = { tag: 0 } as const;
export type DevconfField = keyof typeof DEVCONF_DEFAULTS;

type Conf = Record<DevconfField, number>;
interface DeviceConf { values: Conf; written: Set<DevconfField> }
interface NetDevconf { all: Conf; dflt: Conf; devs: Map<string, DeviceConf> }

const confs = new WeakMap<object, NetDevconf>();

function fresh(from: Conf): Conf { return { ...from }; }

/** The configuration of the namespace kept under key (kernel for the initial one). */
function devconfOf(key: object): NetDevconf {
  let c = confs.get(key);
  if (c === undefined) {
    c = { all: fresh(DEVCONF_DEFAULTS), dflt: fresh(DEVCONF_DEFAULTS), devs: new Map() };
    confs.set(key, c);
  }
  return c;
}

/** devinet_init_net for a new namespace: "all" and "default" copied from the initial one's,
 *  its loopback registered with the new "default". */
export function inheritDevconf(initKey: object, key: object): void {
  const init = devconfOf(initKey);
  const c: NetDevconf = { all: fresh(init.all), dflt: fresh(init.dflt), devs: new Map() };
  confs.set(key, c);
  deviceOf(c, 'lo');
}

/** A device's configuration, made from the namespace's "default" when first seen (a device
 *  registering: inetdev_init). */
function deviceOf(c: NetDevconf, dev: string): DeviceConf {
  let d = c.devs.get(dev);
  if (d === undefined) {
    d = { values: fresh(c.dflt), written: new Set() };
    c.devs.set(dev, d);
  }
  return d;
}

/** name: 'all', 'default' or a device's name. */
export function devconfValue(key: object, name: string, field: DevconfField): number {
  const c = devconfOf(key);
  if (name === 'all') return c.all[field];
  if (name === 'default') return c.dflt[field];
  return deviceOf(c, name).values[field];
}

export function setDevconfValue(key: object, name: string, field: DevconfField, v: number): void {
  const c = devconfOf(key);
  if (name === 'all') {
    c.all[field] = v;
  } else if (name === 'default') {
    c.dflt[field] = v;
    for (const d of c.devs.values()) if (!d.written.has(field)) d.values[field] = v;
  } else {
    const d = deviceOf(c, name);
    d.values[field] = v;
    d.written.add(field);
  }
}
