-- CreateTable
CREATE TABLE "SignInThrottleTally" (
    "ip" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "emails" TEXT[],
    "firstAt" TIMESTAMP(3) NOT NULL,
    "lastAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SignInThrottleTally_pkey" PRIMARY KEY ("ip","windowStart")
);

-- CreateIndex
CREATE INDEX "SignInThrottleTally_windowStart_idx" ON "SignInThrottleTally"("windowStart");
