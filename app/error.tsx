"use client";

// Any unexpected error while rendering a page. The details stay in the server log; the person sees a plain message
// and a reference (Next's digest, which the server logs next to the error) to quote when asking for help.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="flex min-h-[60vh] items-center justify-center px-4">
      <div className="w-full max-w-md rounded-lg border border-slate-200 bg-white p-6 text-center shadow-sm" role="alert">
        <p className="text-sm font-semibold text-rose-700">Something went wrong</p>
        <h1 className="mt-1 text-xl font-semibold">This page could not be shown</h1>
        <p className="mt-2 text-sm text-slate-600">
          It is not something you did. Try again; if it keeps happening, tell your administrator
          {error.digest ? (
            <>
              {" "}
              and quote reference <code className="font-mono">{error.digest}</code>
            </>
          ) : null}
          .
        </p>
        <button type="button" onClick={reset} className="mt-4 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
          Try again
        </button>
      </div>
    </main>
  );
}
