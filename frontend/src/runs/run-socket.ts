import type { components } from "../api/generated/ws";
import type { RunEvent } from "../api/runs";

/**
 * The `/api/ws` client (docs/events.md): starts runs, subscribes to their events and cancels them over
 * one WebSocket, and survives drops. After a drop it reconnects with exponential backoff and
 * resubscribes every unfinished run with `after_seq` = the last seq it delivered, so no event is lost
 * and none is delivered twice (events at or below that seq are dropped).
 *
 * The messages are typed by `generated/ws.d.ts`, which `npm run gen:ws` writes from
 * `schemas/ws.v1.schema.json` (exported by the backend's `rivulet.domain.runs.protocol`); the run
 * events are the `rivulet.events/v1` union of the OpenAPI document.
 */
type Messages = components["schemas"];

export type RunStartRequest = Pick<
  Messages["RunStartMessage"],
  "flow_id" | "inputs" | "version" | "from_node" | "only_nodes" | "variables"
>;
export type RunAccepted = Messages["RunAccepted"];
export type SocketError = Messages["ErrorMessage"];
type ClientMessage = Messages["ClientMessage"];
type ServerFrame = Messages["ServerMessage"] | RunEvent;

/** The part of the browser WebSocket this client uses (a fake implements it in tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(): void;
}

export type SocketFactory = (url: string) => SocketLike;
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface RunSocketOptions {
  readonly url: string;
  readonly onEvent: (event: RunEvent) => void;
  readonly onState?: (state: ConnectionState, attempt: number) => void;
  readonly onError?: (error: SocketError) => void;
  /** The server closed the socket because its credential was revoked (close code 4401): no reconnect. */
  readonly onRevoked?: () => void;
  /** Called as soon as a started run is accepted, before any of its events is delivered. */
  readonly onAccepted?: (accepted: RunAccepted) => void;
  readonly factory?: SocketFactory;
  /** First reconnect delay; doubled after each failed attempt up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Timer seam for tests. */
  readonly setTimer?: (callback: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

const OPEN = 1;
/** The close code of a socket whose credential was revoked (logout, password change, role change). */
export const REVOKED_CLOSE_CODE = 4401;

/** The delay before reconnect attempt `attempt` (0-based): initial · 2^attempt, capped. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** attempt);
}

/** `ws://host/api/ws` for the page's origin. */
export function defaultSocketUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/ws`;
}

interface Pending {
  readonly resolve: (accepted: RunAccepted) => void;
  readonly reject: (error: Error) => void;
}

export class RunSocket {
  private readonly options: RunSocketOptions;
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private closed = false;
  private requestCounter = 0;
  /** Run id → last seq delivered, for every run followed until its `run_finished`. */
  private readonly subscriptions = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly outbox: string[] = [];

  constructor(options: RunSocketOptions) {
    this.options = options;
  }

  get lastSeqs(): ReadonlyMap<string, number> {
    return this.subscriptions;
  }

  connect(): void {
    this.closed = false;
    this.open(this.attempt === 0 ? "connecting" : "reconnecting");
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) (this.options.clearTimer ?? clearTimeout)(this.timer as number);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.failPending("The connection was closed.");
    this.options.onState?.("closed", this.attempt);
  }

  /** Starts a run of a saved flow and follows it; resolves when the server accepts it. */
  startRun(request: RunStartRequest): Promise<RunAccepted> {
    const requestId = `r${++this.requestCounter}`;
    return new Promise<RunAccepted>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.send({ type: "run_start", request_id: requestId, trigger: "editor", ...request });
    });
  }

  /** Follows a run's events after `afterSeq` (0: replay everything, then live ones). */
  subscribe(runId: string, afterSeq = 0): void {
    this.subscriptions.set(runId, afterSeq);
    this.send({ type: "subscribe", run_id: runId, after_seq: afterSeq });
  }

  unsubscribe(runId: string): void {
    if (!this.subscriptions.delete(runId)) return;
    this.send({ type: "unsubscribe", run_id: runId });
  }

  cancel(runId: string): void {
    this.send({ type: "cancel", run_id: runId });
  }

  private send(message: ClientMessage): void {
    const text = JSON.stringify(message);
    if (this.socket?.readyState === OPEN) this.socket.send(text);
    else this.outbox.push(text);
  }

  private open(state: ConnectionState): void {
    this.options.onState?.(state, this.attempt);
    const factory = this.options.factory ?? ((url: string) => new WebSocket(url));
    const socket = factory(this.options.url);
    this.socket = socket;
    socket.onopen = () => this.handleOpen(socket);
    socket.onmessage = (event) => this.handleFrame(String(event.data));
    socket.onclose = (event) => this.handleClose(socket, event.code);
    socket.onerror = () => undefined;
  }

  private handleOpen(socket: SocketLike): void {
    if (socket !== this.socket) return;
    this.attempt = 0;
    this.options.onState?.("open", 0);
    // Resubscribe first (in seq order of what we have), then flush what waited for the connection.
    const resubscribe = [...this.subscriptions].map(([runId, afterSeq]) =>
      JSON.stringify({
        type: "subscribe",
        run_id: runId,
        after_seq: afterSeq,
      } satisfies ClientMessage),
    );
    const queued = this.outbox
      .splice(0)
      .filter((text) => !(JSON.parse(text) as { type: string }).type.startsWith("subscribe"));
    for (const text of [...resubscribe, ...queued]) socket.send(text);
  }

  private handleClose(socket: SocketLike, code?: number): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.failPending("The connection dropped before the server answered.");
    if (this.closed) return;
    if (code === REVOKED_CLOSE_CODE) {
      // retrying would be refused at the handshake: the user has to sign in again
      this.closed = true;
      this.options.onState?.("closed", this.attempt);
      this.options.onRevoked?.();
      return;
    }
    const delay = backoffDelay(
      this.attempt,
      this.options.initialDelayMs ?? 250,
      this.options.maxDelayMs ?? 8_000,
    );
    this.attempt += 1;
    this.options.onState?.("reconnecting", this.attempt);
    this.timer = (this.options.setTimer ?? setTimeout)(() => {
      this.timer = null;
      if (!this.closed) this.open("reconnecting");
    }, delay);
  }

  private failPending(message: string): void {
    for (const pending of this.pending.values()) pending.reject(new Error(message));
    this.pending.clear();
  }

  private handleFrame(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if ("seq" in frame) {
      this.handleEvent(frame);
      return;
    }
    if (frame.type === "run_accepted") {
      // Subscribed by the server from seq 0 (`subscribe: true`).
      if (!this.subscriptions.has(frame.run_id)) this.subscriptions.set(frame.run_id, 0);
      this.options.onAccepted?.(frame);
      this.settle(frame.request_id, (pending) => pending.resolve(frame));
    } else if (frame.type === "error") {
      const error = new Error(frame.message);
      if (!this.settle(frame.request_id, (pending) => pending.reject(error))) {
        this.options.onError?.(frame);
      }
    }
  }

  private settle(
    requestId: string | null | undefined,
    action: (pending: Pending) => void,
  ): boolean {
    const pending = requestId == null ? undefined : this.pending.get(requestId);
    if (!pending || requestId == null) return false;
    this.pending.delete(requestId);
    action(pending);
    return true;
  }

  private handleEvent(event: RunEvent): void {
    const last = this.subscriptions.get(event.run_id);
    if (last === undefined || event.seq <= last) return;
    this.subscriptions.set(event.run_id, event.seq);
    if (event.type === "run_finished") this.subscriptions.delete(event.run_id);
    this.options.onEvent(event);
  }
}
