import { TerminusModule } from '@nestjs/terminus';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { databaseConfig, DatabaseConfig } from './database.config';
import { DatabaseConnection } from './database-connection';
import { DatabaseHealthIndicator } from './database.health';
import { DatabaseMetrics } from './database.metrics';
import { MetricsRegistryModule } from '../metrics/metrics-registry.module';
import { buildTypeOrmOptions } from './typeorm-options';

/** PostgreSQL through TypeORM: owns the DataSource, its connect loop, its check and its pool gauge. */
@Module({
  imports: [
    TerminusModule,
    MetricsRegistryModule,
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY, appConfig.KEY],
      useFactory: (db: DatabaseConfig, app: AppConfig) => buildTypeOrmOptions(db, app),
    }),
  ],
  providers: [DatabaseConnection, DatabaseHealthIndicator, DatabaseMetrics],
  exports: [DatabaseConnection],
})
export class DatabaseModule {}
