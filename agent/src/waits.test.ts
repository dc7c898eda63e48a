import { describe, expect, it } from "vitest";
import { describeWaits, waitedMsIn } from "./waits";

describe("describeWaits", () => {
  it("says in a sentence where an activation waited, and how long in all", () => {
    const line = describeWaits({ "balancer:take-out": 412, "hook:stop": 301, "hook:start": 1020, "health-check": 200, "balancer:put-back": 251 }, 2184);
    expect(line).toBe(
      "Waited 2184 ms on the app and the load balancer: out of the load balancer 412 ms, stop hook 301 ms, start hook 1020 ms, health check 200 ms, back into the load balancer 251 ms.",
    );
    expect(line).not.toMatch(/[{}"]/);
  });

  it("says nothing when nothing was waited for", () => {
    expect(describeWaits({}, 0)).toBeNull();
  });

  it("gives the benchmark its total back from a step's log", () => {
    const log = `Switching web-1 from 1.0.0 to 1.1.0\n${describeWaits({ "hook:start": 1020 }, 1020)}\n`;
    expect(waitedMsIn(log)).toBe(1020);
    expect(waitedMsIn("no such line")).toBeNull();
  });
});
