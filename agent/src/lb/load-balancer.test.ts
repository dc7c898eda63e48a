import { describe, expect, it } from "vitest";
import { createLoadBalancer } from "./load-balancer";

function recorder() {
  const commands: Array<[string, string]> = [];
  const logs: string[] = [];
  return {
    commands,
    logs,
    options: {
      onLog: (line: string) => logs.push(line),
      runCommand: async (name: string, command: string) => {
        commands.push([name, command]);
      },
      drainTimeoutSeconds: 5,
      upTimeoutSeconds: 5,
    },
  };
}

describe("createLoadBalancer", () => {
  it("HOOK runs the drain command to take the node out and the undrain command to put it back", async () => {
    const r = recorder();
    const lb = createLoadBalancer({ kind: "HOOK", drainCommand: "lb-ctl disable web1", undrainCommand: "lb-ctl enable web1" }, r.options);
    await lb.takeOut();
    expect(r.commands).toEqual([["drain", "lb-ctl disable web1"]]);
    await lb.putBack();
    expect(r.commands).toEqual([
      ["drain", "lb-ctl disable web1"],
      ["undrain", "lb-ctl enable web1"],
    ]);
  });

  it("HOOK without commands runs nothing and says so", async () => {
    const r = recorder();
    const lb = createLoadBalancer({ kind: "HOOK", drainCommand: null, undrainCommand: "  " }, r.options);
    await lb.takeOut();
    await lb.putBack();
    expect(r.commands).toEqual([]);
    expect(r.logs.join("\n")).toMatch(/No drain command configured[\s\S]*No undrain command configured/);
  });

  it("HOOK fails the step when the drain command fails", async () => {
    const r = recorder();
    const lb = createLoadBalancer(
      { kind: "HOOK", drainCommand: "false", undrainCommand: null },
      { ...r.options, runCommand: async () => Promise.reject(new Error("drain hook exited with 1")) },
    );
    await expect(lb.takeOut()).rejects.toThrow("drain hook exited with 1");
  });

  it("NONE warns that the node keeps its traffic", async () => {
    const r = recorder();
    const lb = createLoadBalancer({ kind: "NONE" }, r.options);
    await lb.takeOut();
    await lb.putBack();
    expect(r.logs).toEqual([expect.stringMatching(/No load balancer configured/)]);
  });

  it("HAPROXY refuses a server name that would change the command line, before contacting HAProxy", async () => {
    const r = recorder();
    const lb = createLoadBalancer({ kind: "HAPROXY", address: "127.0.0.1:1", backend: "app", server: "a b" }, r.options);
    await expect(lb.takeOut()).rejects.toThrow(/Invalid HAProxy server name "a b"/);
    await expect(lb.putBack()).rejects.toThrow(/Invalid HAProxy server name/);
  });
});
