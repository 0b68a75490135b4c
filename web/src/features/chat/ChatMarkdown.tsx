/**
 * Message text: the shared safe Markdown subset (features/drive/Markdown.tsx — React elements built
 * from the text, never HTML), with @mentions highlighted. Raw HTML in a message shows as text.
 */
import type { ReactNode } from 'react';
import { inline, parseBlocks } from '../drive/Markdown';

const MENTION = /(^|[^\w@])@(channel|here|all|[A-Za-z0-9._-]{1,64})\b/g;

function withMentions(nodes: ReactNode[], key: string, meLogin: string): ReactNode[] {
  const out: ReactNode[] = [];
  nodes.forEach((n, i) => {
    if (typeof n !== 'string') {
      out.push(n);
      return;
    }
    let last = 0;
    let j = 0;
    for (let m = MENTION.exec(n); m; m = MENTION.exec(n)) {
      const start = m.index + (m[1]?.length ?? 0);
      if (start > last) out.push(n.slice(last, start));
      const who = m[2]!;
      const me = who === meLogin || who === 'channel' || who === 'here' || who === 'all';
      out.push(
        <span key={`${key}.${i}.m${j++}`} className={me ? 'chat-mention chat-mention-me' : 'chat-mention'}>
          @{who}
        </span>,
      );
      last = start + who.length + 1;
    }
    MENTION.lastIndex = 0;
    if (last < n.length) out.push(n.slice(last));
  });
  return out;
}

export function ChatMarkdown({ source, meLogin }: { source: string; meLogin: string }) {
  const line = (text: string, k: string) => withMentions(inline(text, k), k, meLogin);
  return (
    <div className="chat-md">
      {parseBlocks(source).map((b, i) => {
        const k = String(i);
        switch (b.t) {
          case 'h':
            return (
              <p key={k} className="chat-md-h">
                <strong>{line(b.text, k)}</strong>
              </p>
            );
          case 'p':
            return <p key={k}>{line(b.text, k)}</p>;
          case 'code':
            return (
              <pre key={k} tabIndex={0}>
                <code>{b.text}</code>
              </pre>
            );
          case 'quote':
            return <blockquote key={k}>{line(b.text, k)}</blockquote>;
          case 'hr':
            return <hr key={k} />;
          case 'list': {
            const items = b.items.map((it, j) => <li key={j}>{line(it, `${k}.${j}`)}</li>);
            return b.ordered ? <ol key={k}>{items}</ol> : <ul key={k}>{items}</ul>;
          }
        }
      })}
    </div>
  );
}
