// Module resolution for the domain code the control plane's own server loads outside Next (server/agent-api.ts).
// Domain modules start with `import "server-only"`, which throws unless resolved under React's "react-server"
// condition, as Next's server bundles resolve it. This process is all server: resolve that one package to its empty
// react-server module, and leave every other resolution alone (a global --conditions=react-server would also switch
// React itself to its server build under Next's renderer). Registered by scripts/start.ts with module.register().
export async function resolve(specifier, context, nextResolve) {
  if (specifier === "server-only") return nextResolve(specifier, { ...context, conditions: [...context.conditions, "react-server"] });
  return nextResolve(specifier, context);
}
