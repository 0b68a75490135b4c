/** Toasts in a live region that is always in the page, so screen readers announce them. */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { CheckCircle2, Info, AlertTriangle, X } from 'lucide-react';
import './ui.css';

export type ToastTone = 'info' | 'success' | 'error';
interface ToastItem {
  id: number;
  message: string;
  tone: ToastTone;
}

type ToastFn = (message: string, tone?: ToastTone) => void;
const ToastContext = createContext<ToastFn>(() => {});

export function useToast(): ToastFn {
  return useContext(ToastContext);
}

export function ToastProvider({ children, dismissLabel, regionLabel }: { children: ReactNode; dismissLabel: string; regionLabel: string }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setItems((xs) => xs.filter((x) => x.id !== id)), []);
  const push = useCallback<ToastFn>(
    (message, tone = 'info') => {
      const id = next.current++;
      setItems((xs) => [...xs.slice(-3), { id, message, tone }]);
      window.setTimeout(() => dismiss(id), tone === 'error' ? 9000 : 5000);
    },
    [dismiss],
  );
  const value = useMemo(() => push, [push]);
  const polite = items.filter((i) => i.tone !== 'error');
  const urgent = items.filter((i) => i.tone === 'error');
  const render = (i: ToastItem) => (
    <div key={i.id} className={`toast toast-${i.tone}`}>
      {i.tone === 'success' ? (
        <CheckCircle2 size={18} aria-hidden="true" />
      ) : i.tone === 'error' ? (
        <AlertTriangle size={18} aria-hidden="true" />
      ) : (
        <Info size={18} aria-hidden="true" />
      )}
      <span className="toast-msg">{i.message}</span>
      <button type="button" className="btn btn-ghost btn-icon btn-icon-sm" aria-label={dismissLabel} title={dismissLabel} onClick={() => dismiss(i.id)}>
        <X size={16} aria-hidden="true" />
      </button>
    </div>
  );
  return (
    <ToastContext.Provider value={value}>
      {children}
      <section className="toasts" aria-label={regionLabel} data-testid="toasts">
        <div aria-live="polite" aria-relevant="additions text" className="toast-stack">
          {polite.map(render)}
        </div>
        <div aria-live="assertive" aria-relevant="additions text" className="toast-stack">
          {urgent.map(render)}
        </div>
      </section>
    </ToastContext.Provider>
  );
}
