import Markdown from "react-markdown";
import rehypeSanitize from "rehype-sanitize";

interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
}

/** Containers whose children are blocks: HTML there becomes a paragraph of text, elsewhere a run of text. */
const FLOW = new Set(["root", "blockquote", "listItem", "footnoteDefinition"]);

/**
 * HTML written into the Markdown is shown as the text it is (a `<script>` reads as `<script>`), never rendered:
 * people see what they wrote, and `Upgrade <Foo> component` does not lose a word.
 */
function htmlAsText() {
  const walk = (node: MdNode) => {
    node.children = node.children?.map((child) => {
      if (child.type !== "html") return child;
      const text: MdNode = { type: "text", value: child.value ?? "" };
      return FLOW.has(node.type) ? { type: "paragraph", children: [text] } : text;
    });
    node.children?.forEach(walk);
  };
  return walk;
}

interface HastNode {
  type: string;
  tagName?: string;
  value?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
}

/**
 * Images are never loaded: one would be fetched from wherever its URL points as soon as someone opens the page (a
 * tracking pixel in migration instructions tells its owner who read them, when and from where). Each becomes a link
 * to it, named by its alt text ("Image: schema diagram"), or just that text inside a link or when the sanitizer
 * removed its address. The Content-Security-Policy's img-src backs this up (lib/entry/security-headers.ts).
 * Runs after rehype-sanitize, so a `src` that is left is one the sanitizer allows for a link too.
 */
function imagesAsLinks() {
  const walk = (node: HastNode, inLink: boolean) => {
    node.children = node.children?.map((child) => {
      if (child.type !== "element" || child.tagName !== "img") return child;
      const alt = typeof child.properties?.alt === "string" && child.properties.alt.trim() !== "" ? child.properties.alt : null;
      const src = typeof child.properties?.src === "string" && child.properties.src !== "" ? child.properties.src : null;
      const label: HastNode = { type: "text", value: alt ? `Image: ${alt}` : "Image" };
      if (inLink || !src) return { type: "element", tagName: "span", properties: {}, children: [label] };
      return { type: "element", tagName: "a", properties: { href: src, title: "An image: opens in a new tab, not loaded here" }, children: [label] };
    });
    node.children?.forEach((child) => walk(child, inLink || (child.type === "element" && child.tagName === "a")));
  };
  return (tree: HastNode) => walk(tree, false);
}

/**
 * Markdown written by people (release notes, instructions), rendered safely: raw HTML stays text (above),
 * rehype-sanitize (GitHub's allow-list) strips anything else dangerous, such as `javascript:` links, and images
 * become links (above). Links open in a new tab without handing over the page.
 */
export function MarkdownText({ text, className = "" }: { text: string; className?: string }) {
  return (
    <div
      className={`space-y-3 text-sm leading-6 text-slate-800 break-words [&_a]:text-indigo-700 [&_a]:underline [&_blockquote]:border-l-4 [&_blockquote]:border-slate-200 [&_blockquote]:pl-3 [&_blockquote]:text-slate-600 [&_code]:rounded [&_code]:bg-slate-100 [&_code]:px-1 [&_code]:py-0.5 [&_code]:font-mono [&_code]:text-xs [&_h1]:text-lg [&_h1]:font-semibold [&_h2]:text-base [&_h2]:font-semibold [&_h3]:font-semibold [&_h4]:font-semibold [&_hr]:border-slate-200 [&_li]:my-0.5 [&_ol]:list-decimal [&_ol]:pl-5 [&_pre]:overflow-x-auto [&_pre]:rounded-md [&_pre]:bg-slate-900 [&_pre]:p-3 [&_pre]:text-slate-100 [&_pre_code]:bg-transparent [&_pre_code]:p-0 [&_pre_code]:text-slate-100 [&_table]:w-full [&_table]:text-left [&_td]:border [&_td]:border-slate-200 [&_td]:px-2 [&_td]:py-1 [&_th]:border [&_th]:border-slate-200 [&_th]:bg-slate-50 [&_th]:px-2 [&_th]:py-1 [&_ul]:list-disc [&_ul]:pl-5 ${className}`}
    >
      <Markdown
        remarkPlugins={[htmlAsText]}
        rehypePlugins={[rehypeSanitize, imagesAsLinks]}
        components={{
          // A link whose address the sanitizer removed (javascript:, say) is plain text, not a dead link.
          a: ({ node: _node, href, ...props }) => (href ? <a {...props} href={href} target="_blank" rel="noopener noreferrer nofollow" /> : <span {...props} />),
        }}
      >
        {text}
      </Markdown>
    </div>
  );
}
