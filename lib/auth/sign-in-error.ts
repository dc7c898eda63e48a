// What the sign-in form says when next-auth reports an error. Our own refusals (wrong credentials, throttling, an
// unexpected failure with its reference) arrive as sentences and are shown as they are; next-auth's own codes are
// single words ("Configuration", "CredentialsSignin") that mean nothing to a person and are translated here.
// The sign-in page also reads ?error= from its URL, which anyone can write into a link: there only the codes are
// taken, so a crafted link cannot put words of its own on the page.

const CODES: Record<string, string> = {
  CredentialsSignin: "Wrong email or password.",
  Configuration: "Sign-in is not working because the server is misconfigured. Ask your administrator: the server's log says what is missing.",
  SessionRequired: "Please sign in to continue.",
  AccessDenied: "You may not sign in here.",
};
const FALLBACK = "Sign-in did not work. Try again; if it keeps failing, ask your administrator.";

/** The message for an error from signIn(): a next-auth code, or a sentence the server wrote for the person. */
export function signInErrorMessage(error: string | null | undefined): string {
  if (!error) return CODES.CredentialsSignin!;
  if (/^[A-Za-z]+$/.test(error)) return CODES[error] ?? FALLBACK;
  return error;
}

/** The message for the sign-in page's ?error= parameter: next-auth's codes only; no message when there is none. */
export function signInErrorFromUrl(error: string | string[] | undefined): string | undefined {
  if (typeof error !== "string" || error === "" || error === "CredentialsSignin") return undefined;
  return /^[A-Za-z]+$/.test(error) ? (CODES[error] ?? FALLBACK) : undefined;
}
