import { TerminusModule } from '@nestjs/terminus';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig, AppConfig, databaseConfig, DatabaseConfig } from '../config/configuration';
import { DatabaseConnection } from './database-connection.service';
import { DatabaseHealthIndicator } from './database.health';
import { buildTypeOrmOptions } from './typeorm-options';

/** PostgreSQL through TypeORM: owns the DataSource, its connect loop and its check. */
@Module({
  imports: [
    TerminusModule,
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY, appConfig.KEY],
      useFactory: (db: DatabaseConfig, app: AppConfig) => buildTypeOrmOptions(db, app),
    }),
  ],
  providers: [DatabaseConnection, DatabaseHealthIndicator],
  exports: [DatabaseHealthIndicator, DatabaseConnection],
})
export class DatabaseModule {}
