// The catalogues are complete in both languages, and no text reaches the
// screen from a template without going through them.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "vue/compiler-sfc";
import { en } from "@/locales/en";
import { zh } from "@/locales/zh";

function keys(o: unknown, prefix = ""): string[] {
  if (Array.isArray(o)) return o.flatMap((v, i) => keys(v, `${prefix}[${i}]`));
  if (o && typeof o === "object") return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}
function leaf(o: unknown, path: string): unknown {
  return path.split(/\.|\[|\]\.?/).filter(Boolean).reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], o);
}

describe("catalogues", () => {
  const enKeys = keys(en);
  const zhKeys = keys(zh);

  it("give every English text a Chinese one, and the other way round", () => {
    expect(enKeys.filter((k) => !zhKeys.includes(k))).toEqual([]);
    expect(zhKeys.filter((k) => !enKeys.includes(k))).toEqual([]);
  });

  it("have no empty text, and Chinese texts that are not English left untranslated", () => {
    const empty = [...enKeys.filter((k) => !String(leaf(en, k)).trim()), ...zhKeys.filter((k) => !String(leaf(zh, k)).trim())];
    expect(empty).toEqual([]);
    // Keys whose text is the same in both languages on purpose (units, placeholders only).
    const same = new Set(["size.kb", "size.mb", "doctor.week"]);
    const untranslated = enKeys.filter((k) => !same.has(k) && leaf(en, k) === leaf(zh, k));
    expect(untranslated).toEqual([]);
  });

  it("use the same placeholders in both languages", () => {
    const names = (s: unknown) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const differ = enKeys.filter((k) => JSON.stringify(names(leaf(en, k))) !== JSON.stringify(names(leaf(zh, k))));
    expect(differ).toEqual([]);
  });
});

// Attributes people read or hear.
const spoken = new Set(["aria-label", "placeholder", "title", "alt", "aria-description", "aria-placeholder", "aria-roledescription"]);
// Text allowed as is: the language names, each written in its own language.
const allow = new Set(["English", "中文"]);
const hasWords = (s: string) => /\p{L}/u.test(s);

interface Node {
  type: number;
  content?: string;
  tag?: string;
  loc: { start: { line: number } };
  props?: Array<{ type: number; name: string; value?: { content: string } }>;
  children?: Node[];
  branches?: Node[];
}

function vueFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? vueFiles(p) : p.endsWith(".vue") ? [p] : [];
  });
}

/** rawTexts lists template text and spoken attributes that do not come from the catalogues. */
export function rawTexts(source: string, file = "x.vue"): string[] {
  const { descriptor } = parse(source, { filename: file });
  const ast = descriptor.template?.ast as unknown as Node | undefined;
  const found: string[] = [];
  const walk = (n: Node) => {
    // 2 = TEXT
    if (n.type === 2 && n.content && hasWords(n.content) && !allow.has(n.content.trim())) {
      found.push(`${file}:${n.loc.start.line} text "${n.content.trim()}"`);
    }
    // 1 = ELEMENT; props of type 6 are static attributes
    for (const p of n.props ?? []) {
      if (p.type === 6 && spoken.has(p.name) && p.value && hasWords(p.value.content)) {
        found.push(`${file}:${n.loc.start.line} ${p.name}="${p.value.content}"`);
      }
      // 7 = directive: :aria-label="'Close'" is a literal too.
      const d = p as unknown as { name: string; arg?: { content?: string }; exp?: { content?: string } };
      if (p.type === 7 && d.name === "bind" && spoken.has(d.arg?.content ?? "") && /^\s*(['"`])[^'"`]*\1\s*$/.test(d.exp?.content ?? "") && hasWords(d.exp?.content ?? "")) {
        found.push(`${file}:${n.loc.start.line} :${d.arg?.content}=${d.exp?.content}`);
      }
    }
    (n.children ?? []).forEach(walk);
    (n.branches ?? []).forEach(walk);
  };
  if (ast) walk(ast);
  return found;
}

describe("templates", () => {
  it("show no text of their own: every word comes from the catalogues", () => {
    const root = join(__dirname);
    const found = vueFiles(root).flatMap((f) => rawTexts(readFileSync(f, "utf8"), relative(root, f)));
    expect(found).toEqual([]);
  });

  it("catch a raw text node and a literal aria-label (the check itself works)", () => {
    const bad = `<template><div><p>Hello there</p><button aria-label="Close">{{ t("x") }}</button><i title="ok">·</i><b :placeholder="'Type'" /></div></template>`;
    expect(rawTexts(bad)).toHaveLength(4);
    const good = `<template><div><p>{{ t("a") }} · –</p><button :aria-label="t('b')" /><option>English</option></div></template>`;
    expect(rawTexts(good)).toEqual([]);
  });
});
