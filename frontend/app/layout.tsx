import type { Metadata } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { NavBar } from '@/components/NavBar';
import { Telemetry } from '@/components/Telemetry';
import { PRODUCT_NAME } from '@/lib/product';
import './globals.css';

export const metadata: Metadata = {
  title: { default: PRODUCT_NAME, template: `%s · ${PRODUCT_NAME}` },
  description: 'Projects and tasks for small teams.',
};

// Every page is rendered per request: its scripts carry the CSP nonce proxy.ts generates for
// that request (a page prerendered at build time would have none, and the CSP would block it).
export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
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
