"use server";

import { redirect } from "next/navigation";
import { signOutCurrentSession } from "@/lib/auth/sign-out";

export async function signOutAction(): Promise<void> {
  await signOutCurrentSession();
  redirect("/signin");
}
