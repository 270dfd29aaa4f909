import { Logger } from '@nestjs/common';

// Unit specs assert on behaviour, not on log output: keep the console quiet.
Logger.overrideLogger(false);
