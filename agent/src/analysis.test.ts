import { describe, expect, it } from "vitest";
import type { TJobAnalysis } from "../../lib/contracts/agent-api";
import { addError, addReading, type BakeInput, type CounterWindow, EARLY_FAILURE_Z, EMPTY_WINDOW, judgeBake, wilsonLower } from "./analysis";

const settings = (over: Partial<TJobAnalysis> = {}): TJobAnalysis => ({
  bakeSeconds: 30,
  max5xxPercent: 5,
  maxResponseMs: null,
  maxResponseRatio: null,
  minResponses: 20,
  previous: { version: "1.0.0", servers: [] },
  ...over,
});

/** A window that saw `responses` responses, `http5xx` of them 5xx, ending with HAProxy's rtime at `rtimeMs`. */
function windowOf(responses: number, http5xx: number, rtimeMs = 10): CounterWindow {
  return addReading(addReading(EMPTY_WINDOW, { responses: 1000, http5xx: 7, rtimeMs: 9 }), { responses: 1000 + responses, http5xx: 7 + http5xx, rtimeMs });
}

function input(over: Partial<BakeInput> & { nodeWindow?: CounterWindow } = {}): BakeInput {
  const { nodeWindow, ...rest } = over;
  return {
    settings: settings(),
    target: "web-1",
    node: [{ balancer: "haproxy", backend: "app", server: "web-1", window: nodeWindow ?? windowOf(201, 41) }],
    previous: [windowOf(201, 0), windowOf(201, 0)],
    previousServers: 2,
    watchedSeconds: 30,
    final: true,
    ...rest,
  };
}

describe("the counters' window", () => {
  it("counts what happened between the first reading and the last", () => {
    let w = addReading(EMPTY_WINDOW, { responses: 500, http5xx: 3, rtimeMs: 12 });
    expect(w).toMatchObject({ responses: 0, http5xx: 0 });
    w = addReading(w, { responses: 560, http5xx: 5, rtimeMs: 14 });
    w = addReading(w, { responses: 600, http5xx: 9, rtimeMs: 15 });
    expect(w).toEqual({ responses: 100, http5xx: 6, last: { responses: 600, http5xx: 9, rtimeMs: 15 }, error: null });
  });

  it("keeps counting across a restart of HAProxy, whose counters start again from 0", () => {
    let w = addReading(EMPTY_WINDOW, { responses: 500, http5xx: 3, rtimeMs: 12 });
    w = addReading(w, { responses: 540, http5xx: 4, rtimeMs: 12 });
    w = addReading(w, { responses: 25, http5xx: 2, rtimeMs: 11 });
    expect(w).toMatchObject({ responses: 65, http5xx: 3 });
  });

  it("keeps the figures of a balancer that stops answering, and says why", () => {
    const w = addError(addReading(addReading(EMPTY_WINDOW, { responses: 0, http5xx: 0, rtimeMs: 0 }), { responses: 40, http5xx: 0, rtimeMs: 3 }), "ENOENT");
    expect(w).toMatchObject({ responses: 40, error: "ENOENT" });
  });
});

describe("judgeBake", () => {
  it("fails a node whose 5xx share is over the limit, naming the figure, the window and the servers still on the previous build", () => {
    const r = judgeBake(input())!;
    expect(r.verdict).toBe("FAILED");
    expect(r.tripped).toBe("5xx");
    expect(r.summary).toBe(
      "Post-deploy analysis: 20.4% of the responses of web-1 were 5xx (41 of 201 in 30 s on haproxy app/web-1), over the limit of 5%; servers still on 1.0.0: 0.0% (0 of 402), 10 ms.",
    );
    expect(r.node).toMatchObject({ responses: 201, http5xx: 41, rtimeMs: 10, balancers: [{ balancer: "haproxy", backend: "app", server: "web-1", responses: 201, http5xx: 41, error: null }] });
    expect(r.previous).toEqual({ responses: 402, http5xx: 0, rtimeMs: 10, version: "1.0.0", servers: 2 });
  });

  it("passes a node at or under the limit, with the figures", () => {
    const r = judgeBake(input({ nodeWindow: windowOf(200, 10) }))!;
    expect(r).toMatchObject({ verdict: "PASSED", judged: true, tripped: null });
    expect(r.summary).toBe(
      "Post-deploy analysis passed: 5.0% of the responses of web-1 were 5xx (10 of 200 in 30 s on haproxy app/web-1), average response time 10 ms (limit 5%); servers still on 1.0.0: 0.0% (0 of 402), 10 ms.",
    );
  });

  it("allows the limit above what the previous build answers: failures both builds have are not the new build's", () => {
    const previous = [windowOf(400, 40)];
    expect(judgeBake(input({ nodeWindow: windowOf(200, 28), previous, previousServers: 1 }))!.verdict).toBe("PASSED");
    const r = judgeBake(input({ nodeWindow: windowOf(200, 31), previous, previousServers: 1 }))!;
    expect(r.verdict).toBe("FAILED");
    expect(r.summary).toContain("over the limit of 15% (5% above the servers still on 1.0.0); servers still on 1.0.0: 10.0% (40 of 400)");
  });

  it("judges on the limit alone when no server is left on the previous build, or they had too little traffic", () => {
    const none = judgeBake(input({ previous: [], previousServers: 0 }))!;
    expect(none.verdict).toBe("FAILED");
    expect(none.summary).toMatch(/over the limit of 5%; no server was left on the previous build to compare with\.$/);
    expect(none.previous).toBeNull();
    const quiet = judgeBake(input({ previous: [windowOf(3, 3)], previousServers: 1 }))!;
    expect(quiet.verdict).toBe("FAILED");
    expect(quiet.summary).toMatch(/over the limit of 5%; servers still on 1\.0\.0: too little traffic to compare \(3 responses\)\.$/);
  });

  it("says plainly when there was too little traffic to judge, and passes", () => {
    const r = judgeBake(input({ nodeWindow: windowOf(3, 3) }))!;
    expect(r).toMatchObject({ verdict: "PASSED", judged: false, tripped: null });
    expect(r.summary).toBe("Post-deploy analysis passed without a verdict: too little traffic to judge: 3 responses in 30 s on haproxy app/web-1 (at least 20 needed).");
  });

  it("says plainly when the node is behind no HAProxy whose counters it could read", () => {
    const r = judgeBake(input({ node: [] }))!;
    expect(r).toMatchObject({ verdict: "PASSED", judged: false });
    expect(r.summary).toBe("Post-deploy analysis passed without a verdict: web-1 is behind no HAProxy balancer, whose counters it reads.");
  });

  it("names a balancer that could not be read, and judges on the others", () => {
    const r = judgeBake(
      input({
        node: [
          { balancer: "haproxy-1", backend: "app", server: "web-1", window: windowOf(201, 41) },
          { balancer: "haproxy-2", backend: "app", server: "web-1", window: addError(EMPTY_WINDOW, "no answer within 2 s") },
        ],
      }),
    )!;
    expect(r.verdict).toBe("FAILED");
    expect(r.summary).toContain("(41 of 201 in 30 s on haproxy-1 app/web-1 and haproxy-2 app/web-1)");
    expect(r.summary).toMatch(/; haproxy-2 could not be read \(no answer within 2 s\)\.$/);
  });

  it("adds up the node's balancers, and weighs their response times by their responses", () => {
    const r = judgeBake(
      input({
        node: [
          { balancer: "haproxy-1", backend: "app", server: "web-1", window: windowOf(300, 3, 10) },
          { balancer: "haproxy-2", backend: "app", server: "web-1", window: windowOf(100, 1, 30) },
        ],
      }),
    )!;
    expect(r.node).toMatchObject({ responses: 400, http5xx: 4, rtimeMs: 15 });
    expect(r.verdict).toBe("PASSED");
  });

  describe("before the bake is over", () => {
    it("keeps watching while the figure is not clearly over the limit", () => {
      expect(judgeBake(input({ final: false, nodeWindow: windowOf(10, 10) }))).toBeNull(); // too few yet
      expect(judgeBake(input({ final: false, nodeWindow: windowOf(40, 4) }))).toBeNull(); // 10%, but could be chance
      expect(judgeBake(input({ final: false, nodeWindow: windowOf(200, 4) }))).toBeNull();
    });

    it("fails as soon as the figure is clearly over, saying how long it watched", () => {
      const r = judgeBake(input({ final: false, watchedSeconds: 2.2, nodeWindow: windowOf(60, 12) }))!;
      expect(r.verdict).toBe("FAILED");
      expect(r.watchedSeconds).toBe(2.2);
      expect(r.summary).toMatch(/^Post-deploy analysis: 20\.0% of the responses of web-1 were 5xx \(12 of 60 in 2 s on haproxy app\/web-1\) after 2 s of a 30 s bake, over the limit of 5%/);
    });

    it("does not fail a healthy node by chance: a 2% build with a 5% limit survives a minute of readings at 30 requests a second", () => {
      // Every second's reading of a node whose every 50th response is a 5xx, as the bake asks them.
      for (let s = 1; s <= 60; s++) {
        const n = 30 * s;
        expect(judgeBake(input({ final: false, watchedSeconds: s, nodeWindow: windowOf(n, Math.ceil(n / 50)) })), `after ${s} s`).toBeNull();
      }
    });
  });

  it("fails on the average response time over its limit", () => {
    const r = judgeBake(input({ settings: settings({ maxResponseMs: 500 }), nodeWindow: windowOf(200, 0, 850) }))!;
    expect(r).toMatchObject({ verdict: "FAILED", tripped: "responseTime" });
    expect(r.summary).toBe(
      "Post-deploy analysis: the average response time of web-1 was 850 ms (HAProxy's rtime on haproxy app/web-1 after 30 s, 200 responses), over the limit of 500 ms; servers still on 1.0.0: 0.0% (0 of 402), 10 ms.",
    );
  });

  it("fails on a response time too many times the previous build's, and compares only when there is something to compare with", () => {
    const s = settings({ maxResponseRatio: 3 });
    const r = judgeBake(input({ settings: s, nodeWindow: windowOf(200, 0, 45) }))!;
    expect(r).toMatchObject({ verdict: "FAILED", tripped: "responseRatio" });
    expect(r.summary).toContain("was 45 ms, 4.5 times the 10 ms of the servers still on 1.0.0");
    expect(judgeBake(input({ settings: s, nodeWindow: windowOf(200, 0, 29) }))!.verdict).toBe("PASSED");
    const alone = judgeBake(input({ settings: s, nodeWindow: windowOf(200, 0, 45), previous: [], previousServers: 0 }))!;
    expect(alone.verdict).toBe("PASSED");
    expect(alone.summary).toContain("response time not compared: nothing to compare with");
  });

  it("reports a bake ops stopped as stopped, with the figures so far and no verdict", () => {
    const r = judgeBake(input({ stopped: true, watchedSeconds: 12, nodeWindow: windowOf(120, 0) }))!;
    expect(r).toMatchObject({ verdict: "STOPPED", judged: false, tripped: null, watchedSeconds: 12 });
    expect(r.summary).toBe("Post-deploy analysis stopped after 12 s of 30 at ops' request, without a verdict; so far 0.0% of the responses of web-1 were 5xx (0 of 120 in 12 s on haproxy app/web-1).");
  });
});

describe("wilsonLower", () => {
  it("is the lower end of the Wilson score interval", () => {
    expect(wilsonLower(0, 0, 3)).toBe(0);
    expect(wilsonLower(0, 100, 3)).toBe(0);
    // 20 of 100 at z = 1.96: 0.1334 (the textbook figure).
    expect(wilsonLower(20, 100, 1.96)).toBeCloseTo(0.1334, 3);
    expect(wilsonLower(8, 40, EARLY_FAILURE_Z)).toBeGreaterThan(0.05);
    expect(wilsonLower(4, 40, EARLY_FAILURE_Z)).toBeLessThan(0.05);
  });
});
