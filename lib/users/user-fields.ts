import { z } from "zod";
import { ZText } from "../validation";

export const ZEmail = z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.").max(254));
export const ZPersonName = ZText().trim().min(1, "Enter a name.").max(100, "Use at most 100 characters.");

/** What an audit event may say about a user: never the password hash. */
export const auditUser = (u: { email: string; name: string; status: string; isPlatformAdmin: boolean; customerId: string | null }) => ({
  email: u.email,
  name: u.name,
  status: u.status,
  isPlatformAdmin: u.isPlatformAdmin,
  customerId: u.customerId,
});
