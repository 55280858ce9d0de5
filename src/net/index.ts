/**
 * corun's TCP layer, re-exported: listen, connect, Conn, Listener, errors, options.
 * Re-exports only.
 */
export { Conn } from "./conn.ts";
export { Listener, listen } from "./listener.ts";
export { connect, netStats } from "./connect.ts";
export { NetError, NetCode } from "./errors.ts";
export type { ListenOptions, ConnectOptions, TlsOptions, UdpOptions } from "./options.ts";
export type { ConnStats } from "../reactor/tcp-socket.ts";
export type { TcpDriverStats } from "../reactor/tcp.ts";
export { udp, UdpSocket, type Datagram, type UdpStats } from "./udp.ts";
