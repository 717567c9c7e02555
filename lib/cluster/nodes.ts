/** Cluster node addresses as configured (`CALMS_CLUSTER_NODES`) and as they travel in a SubmittedJob. */

export interface NodeAddress {
  /** Host name or IP address; an IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
}

const SSH_PORT = 22;
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const ADDRESS = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/** Thrown for a malformed node address; the configuration reader names the variable. */
export class NodeAddressError extends Error {
  override readonly name = 'NodeAddressError';
}

/**
 * Parses `host`, `host:port` or `[ipv6]:port`; the port defaults to 22.
 * @example parseNode('arcp14.hq.eso.org') // { host: 'arcp14.hq.eso.org', port: 22 }
 */
export function parseNode(text: string): NodeAddress {
  const match = ADDRESS.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? SSH_PORT : Number(match[3]);
  const hostValid = host !== undefined && (match?.[1] !== undefined ? IPV6.test(host) : HOST_NAME.test(host));
  if (!hostValid || port < 1 || port > 65535) throw new NodeAddressError(`"${text}" is not host, host:port or [ipv6]:port`);
  return { host, port };
}

/** The canonical `host:port` form (`[ipv6]:port` for IPv6) that names a node in logs and job state. */
export function formatNode(address: NodeAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** Parses a comma-separated node list into canonical names; refuses an empty list. */
export function parseNodeList(text: string): readonly string[] {
  const nodes = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => formatNode(parseNode(entry)));
  if (nodes.length === 0) throw new NodeAddressError('no node is listed');
  return [...new Set(nodes)];
}
