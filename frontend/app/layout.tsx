import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { NavBar } from '@/components/NavBar';
import { Telemetry } from '@/components/Telemetry';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Northstar', template: '%s · Northstar' },
  description: 'Projects and tasks for small teams.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <NavBar />
        <Telemetry />
        <main>{children}</main>
      </body>
    </html>
  );
}
