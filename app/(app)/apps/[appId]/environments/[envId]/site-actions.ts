"use server";

import { runAction } from "@/lib/entry/action";
import { assignTargetSite, ZAssignTargetSiteRequestSchema } from "@/lib/sites/assign-target-site";
import { createSite, ZCreateSiteRequestSchema } from "@/lib/sites/create-site";
import { deleteSite, ZDeleteSiteRequestSchema } from "@/lib/sites/delete-site";
import { moveSite, ZMoveSiteRequestSchema } from "@/lib/sites/move-site";
import { renameSite, ZRenameSiteRequestSchema } from "@/lib/sites/rename-site";
import { updateSiteSettings, ZUpdateSiteSettingsRequestSchema } from "@/lib/sites/update-site-settings";

export async function createSiteAction(formData: FormData) {
  return runAction({ name: "create-site" }, ZCreateSiteRequestSchema, formData, async (input, actor) => {
    const site = await createSite(actor, input);
    return { message: `Site ${site.name} added.` };
  });
}

export async function renameSiteAction(formData: FormData) {
  return runAction({ name: "rename-site" }, ZRenameSiteRequestSchema, formData, async (input, actor) => {
    const { site, changed } = await renameSite(actor, input);
    return { message: changed ? `Renamed to ${site.name}.` : "Nothing changed." };
  });
}

export async function moveSiteAction(formData: FormData) {
  return runAction({ name: "move-site" }, ZMoveSiteRequestSchema, formData, async (input, actor) => {
    await moveSite(actor, input);
  });
}

export async function deleteSiteAction(formData: FormData) {
  return runAction({ name: "delete-site" }, ZDeleteSiteRequestSchema, formData, async (input, actor) => {
    const { name } = await deleteSite(actor, input);
    return { message: `Site ${name} removed.` };
  });
}

export async function assignTargetSiteAction(formData: FormData) {
  return runAction({ name: "assign-target-site" }, ZAssignTargetSiteRequestSchema, formData, async (input, actor) => {
    const { target, site, changed } = await assignTargetSite(actor, input);
    return { message: !changed ? "Nothing changed." : site ? `${target.name} is in site ${site.name}.` : `${target.name} is in no site.` };
  });
}

export async function updateSiteSettingsAction(formData: FormData) {
  return runAction({ name: "update-site-settings" }, ZUpdateSiteSettingsRequestSchema, formData, async (input, actor) => {
    const { changed, warning } = await updateSiteSettings(actor, input);
    const saved = changed.length ? "Site settings saved." : "Nothing changed.";
    return { message: warning ? `${saved} Until this changes, deployments here are refused: ${warning}` : saved };
  });
}
