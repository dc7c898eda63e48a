// What every server action returns to the browser. Shared with client components, so no server imports here.
export type ActionResult<T = undefined> =
  | { ok: true; message?: string; data?: T }
  | {
      ok: false;
      error: string;
      fieldErrors?: Record<string, string[]>;
      /** The refusal came from the state having changed (someone else acted first): the page is out of date. */
      stale?: true;
    };
