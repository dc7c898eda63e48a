// Markdown people write (release notes, migration instructions) is read by others: it must not make their browser
// call out anywhere. An image would load from wherever its URL points the moment the page opens (a tracking pixel
// tells its owner who read the instructions, when, from where); it is shown as a link instead.
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { MarkdownText } from "./markdown";

const render = (text: string) => renderToStaticMarkup(createElement(MarkdownText, { text }));

describe("MarkdownText", () => {
  it("never renders an image: a remote one becomes a link named by its alt text", () => {
    const html = render("Run the migration.\n\n![schema diagram](https://tracker.example/pixel.gif?reader=ops)");
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('href="https://tracker.example/pixel.gif?reader=ops"');
    expect(html).toContain("Image: schema diagram");
  });

  it("an image inside a link or without alt text is a link too, and raw HTML images stay text", () => {
    const html = render("[![](https://tracker.example/a.png)](https://docs.example/)\n\n<img src=https://tracker.example/b.png>");
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain("&lt;img src=https://tracker.example/b.png&gt;");
  });

  it("an image whose address the sanitizer removed (javascript:, data:) shows only its alt text", () => {
    const html = render("![evil](javascript:alert(1)) ![dot](data:image/png;base64,iVBORw0KGgo=)");
    expect(html).not.toMatch(/<img|javascript:|data:image/i);
    expect(html).toContain("evil");
  });

  it("keeps links and text as they were", () => {
    const html = render("See [the runbook](https://wiki.example/runbook) **now**.");
    expect(html).toContain('<a href="https://wiki.example/runbook" target="_blank" rel="noopener noreferrer nofollow">the runbook</a>');
    expect(html).toContain("<strong>now</strong>");
  });
});
