import { useState } from 'react';
import { Check, Copy, Download } from 'lucide-react';
import { Button } from './Button';
import './ui.css';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (insecure origin, permissions): fall back to a hidden textarea.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'visually-hidden';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

export function CopyButton({ text, label, copiedLabel, size = 'sm', variant = 'secondary' }: { text: string; label: string; copiedLabel: string; size?: 'sm' | 'md'; variant?: 'secondary' | 'primary' }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size={size}
      variant={variant}
      icon={copied ? <Check size={16} aria-hidden="true" /> : <Copy size={16} aria-hidden="true" />}
      onClick={() => {
        void copyText(text).then((ok) => {
          if (!ok) return;
          setCopied(true);
          window.setTimeout(() => setCopied(false), 2000);
        });
      }}
    >
      {copied ? copiedLabel : label}
    </Button>
  );
}

export function downloadText(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function DownloadButton({ filename, text, label }: { filename: string; text: string; label: string }) {
  return (
    <Button size="sm" icon={<Download size={16} aria-hidden="true" />} onClick={() => downloadText(filename, text)}>
      {label}
    </Button>
  );
}

/** A secret shown once (app password, token, temporary password), with a copy button. */
export function SecretValue({ value, label, copyLabel, copiedLabel, testId }: { value: string; label: string; copyLabel: string; copiedLabel: string; testId?: string }) {
  return (
    <div className="secret">
      <p className="field-label">{label}</p>
      <div className="secret-row">
        <output className="secret-value mono" aria-label={label} data-testid={testId}>
          {value}
        </output>
        <CopyButton text={value} label={copyLabel} copiedLabel={copiedLabel} />
      </div>
    </div>
  );
}
