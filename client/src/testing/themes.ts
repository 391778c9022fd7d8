/**
 * VS Code's theme for webview tests: the body class and the `--vscode-*` colour variables VS Code
 * sets on a webview's <html> for its default Light Modern, Dark Modern and High Contrast (dark)
 * themes (the variables our pages use), so pages can be checked and photographed in each.
 */
import type { Page } from "playwright-core";

export type ThemeName = "light" | "dark" | "high-contrast";
export const THEMES: readonly ThemeName[] = ["light", "dark", "high-contrast"];

const BODY_CLASS: Record<ThemeName, string> = { light: "vscode-light", dark: "vscode-dark", "high-contrast": "vscode-high-contrast" };

const COLOURS: Record<ThemeName, Record<string, string>> = {
  light: {
    foreground: "#3b3b3b", descriptionForeground: "#717171", errorForeground: "#f85149", focusBorder: "#005fb8", "widget-border": "#e5e5e5",
    "editor-background": "#ffffff", "sideBar-background": "#f8f8f8", "panel-border": "#e5e5e5",
    "button-background": "#005fb8", "button-foreground": "#ffffff", "button-hoverBackground": "#0258a8", "button-border": "#0000001a",
    "button-secondaryBackground": "#e5e5e5", "button-secondaryForeground": "#3b3b3b",
    "dropdown-background": "#ffffff", "dropdown-border": "#cecece", "dropdown-foreground": "#3b3b3b",
    "input-background": "#ffffff", "input-border": "#cecece", "input-foreground": "#3b3b3b",
    "progressBar-background": "#005fb8", "list-hoverBackground": "#f2f2f2",
  },
  dark: {
    foreground: "#cccccc", descriptionForeground: "#9d9d9d", errorForeground: "#f85149", focusBorder: "#0078d4", "widget-border": "#313131",
    "editor-background": "#1f1f1f", "sideBar-background": "#181818", "panel-border": "#2b2b2b",
    "button-background": "#0078d4", "button-foreground": "#ffffff", "button-hoverBackground": "#026ec1", "button-border": "#ffffff12",
    "button-secondaryBackground": "#313131", "button-secondaryForeground": "#cccccc",
    "dropdown-background": "#313131", "dropdown-border": "#3c3c3c", "dropdown-foreground": "#cccccc",
    "input-background": "#313131", "input-border": "#3c3c3c", "input-foreground": "#cccccc",
    "progressBar-background": "#0078d4", "list-hoverBackground": "#2a2d2e",
  },
  "high-contrast": {
    foreground: "#ffffff", descriptionForeground: "#ffffffb3", errorForeground: "#f48771", focusBorder: "#f38518", contrastBorder: "#6fc3df", contrastActiveBorder: "#f38518",
    "editor-background": "#000000", "sideBar-background": "#000000", "panel-border": "#6fc3df",
    "button-background": "#000000", "button-foreground": "#ffffff", "button-border": "#6fc3df",
    "button-secondaryBackground": "#000000", "button-secondaryForeground": "#ffffff",
    "dropdown-background": "#000000", "dropdown-border": "#6fc3df", "dropdown-foreground": "#ffffff",
    "input-background": "#000000", "input-border": "#6fc3df", "input-foreground": "#ffffff",
    "progressBar-background": "#6fc3df",
  },
};

/** Switches the page to a theme as VS Code does: body class and colour variables on <html>. */
export async function applyTheme(page: Page, theme: ThemeName): Promise<void> {
  const vars = Object.entries(COLOURS[theme]).map(([k, v]) => [`--vscode-${k}`, v] as const);
  await page.evaluate(
    ([cls, all, vars]) => {
      document.body.classList.remove(...all);
      document.body.classList.add(cls);
      document.body.removeAttribute("style");
      const s = document.documentElement.style;
      for (const name of Array.from(s)) if (name.startsWith("--vscode-")) s.removeProperty(name);
      for (const [k, v] of vars) s.setProperty(k, v);
      s.setProperty("--vscode-font-family", "sans-serif");
      s.setProperty("--vscode-font-size", "13px");
    },
    [BODY_CLASS[theme], Object.values(BODY_CLASS), vars] as const,
  );
}

/** Relative luminance (0 black … 1 white) of a CSS rgb()/rgba() colour. */
export function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
