import { describe, expect, it } from "vitest";
import type { RunEvent } from "../api/runs";
import { backoffDelay, type ConnectionState, RunSocket, type SocketLike } from "./run-socket";

/** A WebSocket stand-in: records what the client sends; the test plays the server. */
class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];

  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.drop();
  }
  accept() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  push(frame: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(frame) }));
  }
  drop(code = 1006) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code }));
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const events: RunEvent[] = [];
  const states: ConnectionState[] = [];
  const revoked: boolean[] = [];
  const client = new RunSocket({
    onRevoked: () => revoked.push(true),
    url: "ws://test/api/ws",
    factory: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket;
    },
    onEvent: (event) => events.push(event),
    onState: (state) => states.push(state),
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    setTimer: (callback, ms) => timers.push({ callback, ms }),
    clearTimer: () => undefined,
  });
  const current = () => sockets.at(-1) as FakeSocket;
  return { client, sockets, timers, events, states, current, revoked };
}

const event = (seq: number, type = "node_started"): RunEvent =>
  type === "run_finished"
    ? {
        type: "run_finished",
        run_id: "run1",
        seq,
        ts: seq,
        status: "succeeded",
        duration_ms: 1,
        outputs: {},
      }
    : { type: "node_started", run_id: "run1", seq, ts: seq, node_id: "a", attempt: 1 };

describe("backoffDelay", () => {
  it("doubles from the initial delay and caps at the maximum", () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1_000))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});

describe("RunSocket", () => {
  it("queues messages until the socket opens", () => {
    const { client, current } = harness();
    client.connect();
    client.cancel("run1");
    expect(current().sent).toEqual([]);
    current().accept();
    expect(current().sent).toEqual([{ type: "cancel", run_id: "run1" }]);
  });

  it("resolves startRun on run_accepted and follows the run", async () => {
    const { client, current, events } = harness();
    client.connect();
    current().accept();
    const started = client.startRun({ flow_id: "f1", inputs: {} });
    const request = current().sent[0] as { request_id: string; type: string; trigger: string };
    expect(request.type).toBe("run_start");
    expect(request.trigger).toBe("editor");
    current().push({
      type: "run_accepted",
      request_id: request.request_id,
      run_id: "run1",
      flow_id: "f1",
      flow_version: 2,
    });
    await expect(started).resolves.toMatchObject({ run_id: "run1", flow_version: 2 });
    current().push(event(1));
    expect(events.map((e) => e.seq)).toEqual([1]);
  });

  it("rejects startRun with the server's error message", async () => {
    const { client, current } = harness();
    client.connect();
    current().accept();
    const started = client.startRun({ flow_id: "missing" });
    const { request_id } = current().sent[0] as { request_id: string };
    current().push({
      type: "error",
      request_id,
      code: "not_found",
      message: "flow 'missing' not found",
      path: null,
      run_id: null,
      details: {},
    });
    await expect(started).rejects.toThrow("flow 'missing' not found");
  });

  it("reconnects with backoff and resumes from the last seq without duplicates", () => {
    const { client, sockets, timers, events, current, states } = harness();
    client.connect();
    current().accept();
    client.subscribe("run1", 0);
    for (const seq of [1, 2, 3]) current().push(event(seq));
    current().drop();
    expect(states.at(-1)).toBe("reconnecting");
    expect(timers.map((t) => t.ms)).toEqual([100]);
    // The first reconnect fails too: the next delay doubles.
    timers[0]?.callback();
    current().drop();
    expect(timers.map((t) => t.ms)).toEqual([100, 200]);
    timers[1]?.callback();
    current().accept();
    expect(sockets).toHaveLength(3);
    expect(current().sent).toEqual([{ type: "subscribe", run_id: "run1", after_seq: 3 }]);
    // The server replays from seq 4; an overlapping duplicate is ignored.
    for (const seq of [3, 4, 5]) current().push(event(seq));
    current().push(event(6, "run_finished"));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // A finished run is not resubscribed after the next drop; the backoff was reset by the open.
    current().drop();
    expect(timers.at(-1)?.ms).toBe(100);
    timers.at(-1)?.callback();
    current().accept();
    expect(current().sent).toEqual([]);
  });

  it("fails a pending start when the connection drops and stops after close()", async () => {
    const { client, current, timers, states } = harness();
    client.connect();
    current().accept();
    const started = client.startRun({ flow_id: "f1" });
    current().drop();
    await expect(started).rejects.toThrow(/dropped/);
    client.close();
    expect(states.at(-1)).toBe("closed");
    timers.at(-1)?.callback();
    expect(states.at(-1)).toBe("closed");
  });

  it("ignores events of runs it does not follow", () => {
    const { client, current, events } = harness();
    client.connect();
    current().accept();
    current().push(event(1));
    expect(events).toEqual([]);
  });
});

describe("revocation", () => {
  it("stops reconnecting when the server closes with 4401 and reports it", () => {
    const { client, sockets, timers, states, current, revoked } = harness();
    client.connect();
    current().accept();
    current().drop(4401);
    expect(revoked).toEqual([true]);
    expect(states.at(-1)).toBe("closed");
    expect(timers).toHaveLength(0);
    expect(sockets).toHaveLength(1);
  });

  it("still reconnects after an ordinary drop", () => {
    const { client, timers, revoked, current } = harness();
    client.connect();
    current().accept();
    current().drop();
    expect(revoked).toEqual([]);
    expect(timers).toHaveLength(1);
  });
});
