/** An open socket; only the functions below use it. */
export type Handle = { readonly __seqpacket: unique symbol };

/** Poll interest bits for watch(). */
export const READABLE: number;
export const WRITABLE: number;

/**
 * Connects a non-blocking, close-on-exec SOCK_SEQPACKET socket to `path`. Throws an Error with
 * `code` (an errno name such as 'EAGAIN' when the listener's backlog is full, or 'ENOENT').
 */
export function connect(path: string): Handle;
/**
 * Watches the socket for the given interest bits (0: stop watching, so the kernel's receive
 * buffer fills and the peer's writes block). `onEvent(status, events)` runs on the loop.
 */
export function watch(h: Handle, events: number, onEvent: (status: number, events: number) => void): void;
/** One packet: a Buffer, null at end of stream, undefined when nothing is queued. Throws on error. */
export function recv(h: Handle): Buffer | null | undefined;
/** Sends one packet; returns false when the socket's send buffer is full. Throws on error. */
export function send(h: Handle, data: Buffer, offset: number, length: number): boolean;
/** shutdown(2) of the write side. */
export function shutdownWrite(h: Handle): void;
/** Stops watching and closes the descriptor (idempotent). */
export function close(h: Handle): void;
