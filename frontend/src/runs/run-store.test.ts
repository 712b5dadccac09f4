import { beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../api/runs";
import { useRunStore } from "./run-store";

const started: RunEvent = {
  type: "run_started",
  run_id: "r1",
  seq: 1,
  ts: 1,
  flow_id: "f1",
  flow_version: 2,
  node_ids: ["a", "b"],
  trigger: "editor",
};

describe("useRunStore", () => {
  beforeEach(() => useRunStore.getState().clear());

  it("folds the shown run's events and ignores other runs", () => {
    const store = useRunStore.getState();
    store.show("r1", "f1");
    store.apply(started);
    store.apply({ ...started, run_id: "other", seq: 2 });
    store.apply({ type: "node_started", run_id: "r1", seq: 2, ts: 2, node_id: "a", attempt: 1 });
    const view = useRunStore.getState().view;
    expect(view?.status).toBe("running");
    expect(view?.lastSeq).toBe(2);
    expect(view?.nodes.a?.status).toBe("running");
    expect(view?.nodes.b?.status).toBe("queued");
  });

  it("keeps the view when the same run is shown again and resets for another", () => {
    const store = useRunStore.getState();
    store.show("r1", "f1");
    store.apply(started);
    store.show("r1", "f1");
    expect(useRunStore.getState().view?.lastSeq).toBe(1);
    store.show("r2", "f1");
    expect(useRunStore.getState().view).toMatchObject({ runId: "r2", lastSeq: 0 });
  });
});
