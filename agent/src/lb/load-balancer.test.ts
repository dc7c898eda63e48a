import { describe, expect, it } from "vitest";
import { balancersOfJob, createLoadBalancer, createLoadBalancers } from "./load-balancer";

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

describe("createLoadBalancers", () => {
  it("runs each balancer's commands with its name, backend and server in the hook's environment", async () => {
    const calls: Array<[string, string, Record<string, string> | undefined]> = [];
    const lb = createLoadBalancers(
      [
        { kind: "HOOK", name: "cloud-a", drainCommand: "lb off", undrainCommand: "lb on", backend: "pool-1", server: "web-1" },
        { kind: "HOOK", name: "cloud-b", drainCommand: "lb off", undrainCommand: "lb on", backend: "", server: "web-1" },
      ],
      { onLog: () => {}, runCommand: async (name, command, env) => void calls.push([name, command, env]), drainTimeoutSeconds: 5, upTimeoutSeconds: 5 },
    );
    await lb.takeOut();
    await lb.putBack();
    expect(calls).toEqual([
      ["drain cloud-a", "lb off", { RELEASEGATE_LB_NAME: "cloud-a", RELEASEGATE_LB_BACKEND: "pool-1", RELEASEGATE_LB_SERVER: "web-1" }],
      ["drain cloud-b", "lb off", { RELEASEGATE_LB_NAME: "cloud-b", RELEASEGATE_LB_BACKEND: "", RELEASEGATE_LB_SERVER: "web-1" }],
      ["undrain cloud-a", "lb on", { RELEASEGATE_LB_NAME: "cloud-a", RELEASEGATE_LB_BACKEND: "pool-1", RELEASEGATE_LB_SERVER: "web-1" }],
      ["undrain cloud-b", "lb on", { RELEASEGATE_LB_NAME: "cloud-b", RELEASEGATE_LB_BACKEND: "", RELEASEGATE_LB_SERVER: "web-1" }],
    ]);
  });

  it("a drain command that fails puts the node back on the balancers it had left, and says so", async () => {
    const calls: string[] = [];
    const lb = createLoadBalancers(
      [
        { kind: "HOOK", name: "cloud-a", drainCommand: "ok", undrainCommand: "on-a", backend: "", server: "w" },
        { kind: "HOOK", name: "cloud-b", drainCommand: "fail", undrainCommand: "on-b", backend: "", server: "w" },
      ],
      {
        onLog: () => {},
        runCommand: async (name, command) => {
          calls.push(name);
          if (command === "fail") throw new Error("drain cloud-b exited with 3");
        },
        drainTimeoutSeconds: 5,
        upTimeoutSeconds: 5,
      },
    );
    await expect(lb.takeOut()).rejects.toThrow(
      "Could not take the node out of cloud-b: drain cloud-b exited with 3. It was put back in cloud-a, cloud-b, so it serves as before on every balancer that answers.",
    );
    expect(calls).toEqual(["drain cloud-a", "drain cloud-b", "undrain cloud-a", "undrain cloud-b"]);
  });

  it("a job from an older control plane (one `loadBalancer`) is read as one balancer, NONE as none", () => {
    expect(balancersOfJob({ loadBalancer: { kind: "HAPROXY", address: "/run/h.sock", backend: "be", server: "w1" } })).toEqual([
      { kind: "HAPROXY", name: "HAProxy", address: "/run/h.sock", backend: "be", server: "w1" },
    ]);
    expect(balancersOfJob({ loadBalancer: { kind: "NONE" } })).toEqual([]);
    expect(balancersOfJob({ loadBalancer: { kind: "NONE" }, loadBalancers: [] })).toEqual([]);
  });
});
