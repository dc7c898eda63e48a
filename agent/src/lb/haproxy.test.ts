import { describe, expect, it } from "vitest";
import {
  assertHaproxyName,
  haproxyCommand,
  parseCsvLine,
  parseHaproxyAddress,
  parseServersState,
  parseShowStat,
  toServerState,
} from "./haproxy";

// Captured from HAProxy 2.6.12 (`show stat app 4 -1`, columns after check_desc cut for width): a up, b down.
const SHOW_STAT = [
  "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,",
  "app,a,2,3,7,9,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,0,0,2,0,,1,3,1,,0,,2,0,,0,L7OK,200,1,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer7 check passed,",
  'app,b,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,2,2,,1,3,2,,0,,2,0,,0,L7STS,500,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,"HTTP status check returned code <3C>500<3E>, body ""broken""",,0,0,0,0,,,,Layer7 wrong status,',
  "",
  "",
].join("\n");

const SERVERS_STATE = [
  "1",
  "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port",
  "3 app 1 a 127.0.0.1 2 8 1 1 2 15 3 2 6 0 0 0 - 18081 - 0 0 - - 0",
  "3 app 2 b 127.0.0.1 0 0 1 1 2 8 2 0 6 0 0 0 - 18082 - 0 0 - - 0",
  "",
].join("\n");

describe("parseHaproxyAddress", () => {
  it("takes unix socket paths and host:port", () => {
    expect(parseHaproxyAddress("/run/haproxy/admin.sock")).toEqual({ kind: "unix", path: "/run/haproxy/admin.sock" });
    expect(parseHaproxyAddress("unix@/tmp/a.sock")).toEqual({ kind: "unix", path: "/tmp/a.sock" });
    expect(parseHaproxyAddress("127.0.0.1:9999")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9999 });
    expect(parseHaproxyAddress("ipv4@127.0.0.1:9999")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9999 });
    expect(parseHaproxyAddress("[::1]:9999")).toEqual({ kind: "tcp", host: "::1", port: 9999 });
    expect(parseHaproxyAddress("lb-1.internal:9999")).toEqual({ kind: "tcp", host: "lb-1.internal", port: 9999 });
  });

  it.each(["", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "run/admin.sock", "host:port", "a b:1"])("rejects %j", (address) => {
    expect(() => parseHaproxyAddress(address)).toThrow(/Invalid HAProxy runtime API address/);
  });
});

describe("assertHaproxyName", () => {
  it.each(["app", "web-1", "be_app.v2", "srv:8080"])("accepts %j", (name) => {
    expect(() => assertHaproxyName("server", name)).not.toThrow();
  });

  it.each(["", "a b", "a\nb", "a;b", "a/b", "app\r", "x".repeat(129)])("rejects %j, which could change the command line", (name) => {
    expect(() => assertHaproxyName("backend", name)).toThrow(/Invalid HAProxy backend name/);
  });
});

describe("haproxyCommand", () => {
  it("refuses a second command smuggled into the line, before connecting", async () => {
    await expect(haproxyCommand("127.0.0.1:1", "show info; shutdown frontend web")).rejects.toThrow(/one command per call/);
    await expect(haproxyCommand("127.0.0.1:1", "show info\nshow stat")).rejects.toThrow(/one command per call/);
  });
});

describe("parseCsvLine", () => {
  it("splits plain and quoted fields, keeping empty ones", () => {
    expect(parseCsvLine('a,,"b,c","say ""hi""",')).toEqual(["a", "", "b,c", 'say "hi"', ""]);
  });
});

describe("parseShowStat", () => {
  it("keys each row by the header and keeps quoted commas inside a field", () => {
    const rows = parseShowStat(SHOW_STAT);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ pxname: "app", svname: "a", qcur: "2", scur: "7", status: "DRAIN", check_status: "L7OK" });
    expect(rows[1]).toMatchObject({ svname: "b", status: "DOWN", last_chk: 'HTTP status check returned code <3C>500<3E>, body "broken"' });
    expect(rows[1]?.check_desc).toBe("Layer7 wrong status");
  });

  it("rejects an error message instead of CSV", () => {
    expect(() => parseShowStat("No such proxy.\n\n")).toThrow(/Not a "show stat" answer: No such proxy/);
  });
});

describe("parseServersState and toServerState", () => {
  it("reads admin state bits, operational state and sessions", () => {
    const states = parseServersState(SERVERS_STATE);
    const stats = parseShowStat(SHOW_STAT);
    const a = toServerState("app", "a", stats[0] ?? {}, states[0] ?? {});
    expect(a).toEqual({
      backend: "app",
      server: "a",
      adminState: "DRAIN",
      operationalState: "UP",
      status: "DRAIN",
      currentSessions: 7,
      queued: 2,
      healthChecked: true,
      checkStatus: "L7OK",
      checkCode: 200,
      checkDescription: "Layer7 check passed",
      checkHealth: 2,
      // This capture stops before check_rise and check_fall (haproxy.int.test.ts reads them from a live HAProxy).
      checkRise: null,
      checkFall: null,
      responses: 0,
      http5xx: 0,
      rtimeMs: 0,
    });
    const b = toServerState("app", "b", stats[1] ?? {}, states[1] ?? {});
    expect(b).toMatchObject({ adminState: "READY", operationalState: "DOWN", checkStatus: "L7STS", checkCode: 500 });
  });

  it.each([
    ["0", "READY"],
    ["8", "DRAIN"], // FDRAIN
    ["16", "DRAIN"], // IDRAIN (inherited from a tracked server)
    ["1", "MAINT"], // FMAINT
    ["9", "MAINT"], // MAINT wins over DRAIN
    ["32", "MAINT"], // RMAINT (DNS resolution failed)
  ])("admin state bits %s mean %s", (bits, expected) => {
    const state = { srv_admin_state: bits, srv_op_state: "2", srv_check_state: "6" };
    expect(toServerState("app", "a", {}, state).adminState).toBe(expected);
  });

  it("knows a server without health checks", () => {
    const state = toServerState("app", "a", { status: "no check", check_status: "" }, { srv_admin_state: "0", srv_op_state: "2", srv_check_state: "0" });
    expect(state).toMatchObject({ healthChecked: false, checkStatus: null, checkCode: null, status: "no check" });
  });

  it("rejects an unknown format", () => {
    expect(() => parseServersState("Can't find backend.\n")).toThrow(/Not a "show servers state" answer/);
    expect(() => toServerState("app", "a", {}, { srv_admin_state: "x", srv_op_state: "9" })).toThrow(/Unexpected/);
  });
});
