import { useEffect, type ReactNode } from 'react';
import './ui.css';

/** Sets the document title for the page. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Bastide` : 'Bastide';
  }, [title]);
}

export function PageHeader({ title, description, actions, icon }: { title: ReactNode; description?: ReactNode; actions?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="page-head">
      <div className="page-head-text">
        <h1 className="page-title">
          {icon && <span className="page-icon" aria-hidden="true">{icon}</span>}
          {title}
        </h1>
        {description && <p className="muted">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function Card({ children, className, as: Tag = 'section', labelledBy }: { children: ReactNode; className?: string; as?: 'section' | 'div' | 'article'; labelledBy?: string }) {
  return (
    <Tag className={['card', className ?? ''].filter(Boolean).join(' ')} aria-labelledby={labelledBy}>
      {children}
    </Tag>
  );
}

export function Badge({ children, tone = 'neutral' }: { children: ReactNode; tone?: 'neutral' | 'accent' | 'success' | 'danger' | 'warning' }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
