// How the production web app is built, for `npm start`, `npm test` and `npm run build` alike.
//
// Webpack, not Turbopack (Next 16's default), for the production server: Turbopack's server output evaluates the
// shared chunks once per route entry, so one control-plane process held about 16 copies of the domain code and
// idled at about 400 MB RSS (163 MB of JS heap) here, against 300 MB (74 MB of heap) for the same app built with
// webpack, whose runtime evaluates each module once. The fleet benchmark's memory budget (bench/fleet.ts) depends on
// it. `npm run dev` keeps Turbopack: there, rebuild speed matters and memory does not.
export const NEXT_BUILD_ARGS = ["--no-install", "next", "build", "--webpack"] as const;
